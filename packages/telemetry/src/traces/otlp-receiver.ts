/**
 * @module The OTLP/HTTP JSON trace receiver, whatever server it runs in (an ops port's `POST /v1/traces`,
 * the dashboard's `POST /_flotilla/v1/traces`): reads an export request's body (JSON, gzip or not, within
 * the bytes accepted before and after inflating), decodes it into span records and keeps them in a store,
 * and answers as OTLP does: `{}`, or a `google.rpc.Status` `{ code, message }` saying what is wrong.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { FlotillaError } from "@flotilla/core";
import { decodeOtlpJson, MAX_OTLP_JSON_BYTES } from "./otlp-json.js";
import type { TraceStore } from "./trace-store.js";

const gunzipAsync = promisify(gunzip);

/** OTLP answers errors with a `google.rpc.Status`: 3 is INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 13 INTERNAL. */
const RPC_CODE: Record<number, number> = { 400: 3, 413: 8, 415: 3, 500: 13 };

/** An export request as the server received it: its headers and its body, not yet read. */
export interface OtlpExportRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
}

/** What to answer: the status, the JSON body, and whether to close the connection (the body was left unread). */
export interface OtlpAnswer {
  readonly status: number;
  readonly body: string;
  readonly close: boolean;
  /** The spans kept (0 when refused). */
  readonly spans: number;
}

/** Reads, decodes and keeps one export request; never throws (every failure is an answer). */
export async function receiveOtlp(req: OtlpExportRequest, traces: TraceStore): Promise<OtlpAnswer> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    req.body.resume();
    return fail(
      415,
      `this receiver takes OTLP/HTTP JSON only (content-type: application/json), got "${type || "none"}"; ` +
        "set the exporter's protocol to http/json",
    );
  }
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip") {
    req.body.resume();
    return fail(415, `content-encoding "${encoding}" is not supported (gzip or none)`);
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_OTLP_JSON_BYTES) {
    req.body.resume();
    return fail(413, `the request has ${declared} bytes, more than the ${MAX_OTLP_JSON_BYTES} accepted`);
  }
  let body: Buffer | undefined;
  try {
    body = await readAtMost(req.body, MAX_OTLP_JSON_BYTES);
  } catch (err) {
    return fail(400, `the request could not be read: ${messageOf(err)}`);
  }
  if (body === undefined) return fail(413, `the request has more than the ${MAX_OTLP_JSON_BYTES} bytes accepted`);
  let json: Buffer;
  try {
    json = encoding === "gzip" ? await gunzipAsync(body, { maxOutputLength: MAX_OTLP_JSON_BYTES }) : body;
  } catch (err) {
    const tooLarge = (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
    return fail(tooLarge ? 413 : 400, tooLarge ? "the request inflates past the bytes accepted" : messageOf(err));
  }
  let spans: ReturnType<typeof decodeOtlpJson>;
  try {
    spans = decodeOtlpJson(json);
  } catch (err) {
    const tooLarge = err instanceof FlotillaError && err.status === "RESOURCE_EXHAUSTED";
    return fail(tooLarge ? 413 : 400, messageOf(err));
  }
  traces.add(spans);
  return { status: 200, body: "{}", close: false, spans: spans.length };
}

/**
 * The body, or undefined as soon as it grows past `max` bytes: the rest is then left unread (and the
 * connection closed after the answer), so a client cannot make the receiver hold more than `max`.
 */
function readAtMost(stream: Readable, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        stream.off("data", onData);
        stream.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    stream.on("data", onData);
    stream.once("end", () => resolve(Buffer.concat(chunks)));
    stream.once("error", reject);
  });
}

function fail(status: number, message: string): OtlpAnswer {
  return { status, body: JSON.stringify({ code: RPC_CODE[status] ?? 2, message }), close: true, spans: 0 };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
