/** @module Answers for requests Node cannot even parse (bad header bytes, oversized headers, timeouts). */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { FlotillaError, type Host } from "@flotilla/core";
import { edgeIds, responseHeaders } from "./edge-ids.js";
import { errorBody, GatewayCodes, httpStatusOf } from "./http-errors.js";

/** Node hands over the bytes it could not parse as `rawPacket`, when it has them (a Buffer, whatever fastify's types say). */
type ConnectionError = Error & { code?: string; rawPacket?: unknown };

/** There is no request to read ids from, so the answer gets a fresh trace and correlation id. */
export function clientErrorHandler(log: Host["log"]) {
  return (err: ConnectionError, socket: Socket): void => {
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    // A TLS handshake that failed or never finished: no HTTP answer can reach the client, and one written
    // anyway would wait for the handshake forever, holding the socket.
    if (err.code?.startsWith("ERR_TLS_") || err.code?.startsWith("ERR_SSL_")) {
      socket.destroy();
      return;
    }
    const fe =
      err.code === "HPE_HEADER_OVERFLOW"
        ? FlotillaError.of(GatewayCodes.HEADERS_TOO_LARGE, "request headers are too large")
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? FlotillaError.of(GatewayCodes.REQUEST_TIMEOUT, "the request took too long to arrive")
          : FlotillaError.of(GatewayCodes.BAD_REQUEST, "the request is not valid HTTP", {
              details: { reason: err.code ?? "unknown" },
            });
    const ids = edgeIds({});
    const status = httpStatusOf(fe);
    const body = JSON.stringify(errorBody(fe, status, ids.trace.traceId));
    const { traceId: trace_id, spanId: span_id } = ids.trace;
    log.debug({ reason: err.code, trace_id, span_id, status }, "unparseable request");
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const headers = Object.entries(responseHeaders(ids))
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    const sendBody = mayHaveBody(err.rawPacket, socket);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${sendBody ? Buffer.byteLength(body) : 0}\r\n${headers}\r\n${sendBody ? body : ""}`,
    );
  };
}

/** A request line's start: a method (any token, as a refused one may be) and a space. */
const REQUEST_START = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32} /;

/**
 * Whether the answer may carry its JSON body. An answer to HEAD must not (its length is announced, not
 * sent), or the client reads the body as the next answer's bytes. Node hands over the bytes it could not
 * parse: when they begin the request (a method token, or the connection's first bytes), they tell
 * whether it is a HEAD. When they are a later part of it (a head that arrived over several reads and
 * overflowed in the last), the method is unknown, and the answer has no body (`content-length: 0`),
 * which every client reads right. A timeout has no bytes: its answer keeps the body (a HEAD trickled past
 * the request timeout is the one client that reads it wrong, on a connection that closes anyway).
 */
function mayHaveBody(raw: unknown, socket: Socket): boolean {
  if (!Buffer.isBuffer(raw)) return true;
  const start = raw.subarray(0, 33).toString("latin1");
  if (start.startsWith("HEAD ")) return false;
  return REQUEST_START.test(start) || socket.bytesRead === raw.length;
}
