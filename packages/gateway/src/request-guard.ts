/** @module The request head at the edge: refusals (too many headers, a path that could mean another route, a declared body over the limit) and internal headers stripped. */
import type { IncomingMessage } from "node:http";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { GatewayCodes } from "./http-errors.js";
import type { GatewayLimits } from "./limits.js";

/** Characters any suspect path contains; most API paths have none, so one test clears them. */
const SUSPECT = /[.%\\]|\/\//;
const ENCODED_SLASH = /%(2f|5c)/i;
const ENCODED_DOT = /%2e/gi;

/**
 * Why a path is refused, or undefined. Dot segments (`..`, `.`, raw or percent-encoded), encoded slashes
 * and backslashes (`%2f`, `%5c`, `\`) and empty segments (`//`) are refused rather than normalized: a
 * proxy, a cache or a service that normalizes differently from the router would see another route than
 * the one the gateway's policies ran for.
 */
export function pathProblem(url: string): string | undefined {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  if (!SUSPECT.test(path)) return undefined;
  if (path.includes("//")) return "empty segment";
  if (path.includes("\\") || ENCODED_SLASH.test(path)) return "encoded slash";
  for (const segment of path.split("/")) {
    const decoded = segment.includes("%") ? segment.replace(ENCODED_DOT, ".") : segment;
    if (decoded === "." || decoded === "..") return "dot segment";
  }
  return undefined;
}

/** The first limit the request head breaks, as the error to answer with; undefined when it breaks none. */
export function headRefusal(req: IncomingMessage, limits: GatewayLimits): FlotillaError | undefined {
  // Node stops collecting headers just past the limit (maxHeadersCount), so this sees "more than" without holding them all.
  if (req.rawHeaders.length / 2 > limits.maxHeaders) {
    return FlotillaError.of(GatewayCodes.HEADERS_TOO_LARGE, `request has more than ${limits.maxHeaders} headers`, {
      details: { limit: limits.maxHeaders },
    });
  }
  // HTTP/1.1 heads are measured by Node's parser as they arrive; HTTP/2 only advertises the limit (the
  // SETTINGS_MAX_HEADER_LIST_SIZE a peer may ignore), so the decoded header list is measured here.
  if (req.httpVersionMajor === 2 && headerListBytes(req.rawHeaders) > limits.maxHeaderBytes) {
    return FlotillaError.of(GatewayCodes.HEADERS_TOO_LARGE, "request headers are too large", {
      details: { limit: limits.maxHeaderBytes },
    });
  }
  const problem = pathProblem(req.url ?? "/");
  if (problem !== undefined) {
    return FlotillaError.of(GatewayCodes.BAD_PATH, "the request path is not acceptable", {
      details: { reason: problem },
    });
  }
  const length = req.headers["content-length"];
  if (length !== undefined && Number(length) > limits.bodyLimitBytes) {
    return bodyTooLarge(limits.bodyLimitBytes);
  }
  return undefined;
}

/** Names and values, decoded, as HTTP/1.1 would carry them (pseudo-headers included). */
function headerListBytes(raw: readonly string[]): number {
  let bytes = 0;
  for (const field of raw) bytes += field.length;
  return bytes;
}

export function bodyTooLarge(limit: number): FlotillaError {
  return FlotillaError.of(FlotillaCodes.PAYLOAD_TOO_LARGE, `request body exceeds ${limit} bytes`, {
    details: { limit },
  });
}

/** `flotilla-*` headers carry Flotilla's own metadata between hops; a client must not be able to claim any. */
export function stripInternalHeaders(headers: Record<string, unknown>): void {
  for (const name in headers) {
    if (name.startsWith("flotilla-")) delete headers[name];
  }
}
