/**
 * @module The OTLP/HTTP JSON receiver (`POST /v1/traces`) shared by an instance's ops port and the
 * standalone dashboard: spans other processes export, decoded into a trace store.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { FlotillaError } from "@flotilla/core";
import { decodeOtlpJson, MAX_OTLP_JSON_BYTES, type TraceStore } from "@flotilla/telemetry";

const gunzipAsync = promisify(gunzip);

/** OTLP answers errors with a `google.rpc.Status`: 3 is INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 13 INTERNAL. */
const RPC_CODE: Record<number, number> = { 400: 3, 413: 8, 415: 3, 500: 13 };

/** `POST /v1/traces`: an OTLP/HTTP JSON export request into the store; answers it on `res`. */
export function receiveOtlpJson(req: IncomingMessage, res: ServerResponse, traces: TraceStore) {
  const fail = (status: number, message: string) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", connection: "close" });
    res.end(JSON.stringify({ code: RPC_CODE[status] ?? 2, message }));
  };
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    req.resume();
    return fail(
      415,
      `this receiver takes OTLP/HTTP JSON only (content-type: application/json), got "${type || "none"}"; ` +
        "set the exporter's protocol to http/json",
    );
  }
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip") {
    req.resume();
    return fail(415, `content-encoding "${encoding}" is not supported (gzip or none)`);
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_OTLP_JSON_BYTES) {
    req.resume();
    return fail(413, `the request has ${declared} bytes, more than the ${MAX_OTLP_JSON_BYTES} accepted`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on("data", (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > MAX_OTLP_JSON_BYTES) {
      refused = true;
      fail(413, `the request has more than the ${MAX_OTLP_JSON_BYTES} bytes accepted`);
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (refused) return;
    const body = Buffer.concat(chunks);
    const inflated =
      encoding === "gzip" ? gunzipAsync(body, { maxOutputLength: MAX_OTLP_JSON_BYTES }) : Promise.resolve(body);
    inflated.then(
      (json) => {
        let spans: ReturnType<typeof decodeOtlpJson>;
        try {
          spans = decodeOtlpJson(json);
        } catch (err) {
          const tooLarge = err instanceof FlotillaError && err.status === "RESOURCE_EXHAUSTED";
          return fail(tooLarge ? 413 : 400, messageOf(err));
        }
        traces.add(spans);
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        res.end("{}");
      },
      (err: unknown) => {
        const tooLarge = (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
        fail(tooLarge ? 413 : 400, tooLarge ? "the request inflates past the bytes accepted" : messageOf(err));
      },
    );
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
