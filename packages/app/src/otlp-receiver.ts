/**
 * @module The OTLP/HTTP JSON receiver (`POST /v1/traces`) on a plain node request, shared by an
 * instance's ops port and the standalone dashboard: telemetry's `receiveOtlp` answered on `res`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { receiveOtlp, type TraceStore } from "@flotilla/telemetry";

/** `POST /v1/traces`: an OTLP/HTTP JSON export request into the store; answers it on `res`. */
export function receiveOtlpJson(req: IncomingMessage, res: ServerResponse, traces: TraceStore): void {
  void receiveOtlp({ headers: req.headers, body: req }, traces).then((answer) => {
    res.writeHead(answer.status, {
      "content-type": "application/json",
      "cache-control": "no-store",
      ...(answer.close ? { connection: "close" } : {}),
    });
    res.end(answer.body);
  });
}
