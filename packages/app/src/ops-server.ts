/**
 * @module An instance's operations port: /livez, /readyz and /metrics (Prometheus text); and, given a
 * trace store, the OTLP/HTTP JSON receiver (`POST /v1/traces`) and the trace queries (`GET /traces`,
 * `GET /traces/<id>`); given saga readers, the saga queries (`GET /sagas`, `GET /sagas/<id>`, ops-sagas.ts).
 */
import { createServer, type Server } from "node:http";
import { isTraceId, type TraceStore, traceQueryFromParams } from "@flotilla/telemetry";
import { answerSagas, SAGAS_PATH } from "./ops-sagas.js";
import { receiveOtlpJson } from "./otlp-receiver.js";
import type { SagaReader } from "./saga-readers.js";

export interface OpsServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface OpsServerOptions {
  /** The process's trace store: spans received over OTLP go there, and the trace queries read it. */
  traces?: TraceStore;
  /** The sagas of the services running here, read per request (instances attach after the port opens). */
  sagas?: () => readonly SagaReader[];
}

/** Whose readiness `/readyz` reports: a host, or one that is not made yet (503 until then). */
export interface OpsTarget {
  isReady(): Promise<boolean>;
}

export async function startOpsServer(
  host: OpsTarget,
  metrics: { render(): Promise<string>; contentType: string },
  listen: { port: number; host: string },
  options: OpsServerOptions = {},
): Promise<OpsServer> {
  const { traces } = options;
  const server: Server = createServer((req, res) => {
    const raw = req.url ?? "/";
    const mark = raw.indexOf("?");
    const path = mark < 0 ? raw : raw.slice(0, mark);
    const search = new URLSearchParams(mark < 0 ? "" : raw.slice(mark + 1));
    const answer = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    const json = (status: number, body: unknown) => answer(status, JSON.stringify(body));
    if (path === "/v1/traces") {
      if (traces === undefined) return json(404, { error: "no trace store in this process" });
      if (req.method !== "POST") return json(405, { error: "method not allowed: POST OTLP/HTTP JSON here" });
      receiveOtlpJson(req, res, traces);
      return;
    }
    if (req.method !== "GET") return json(405, { error: "method not allowed" });
    if (path === "/livez") return json(200, { status: "ok" });
    if (path === "/readyz") {
      host.isReady().then(
        (ready) => json(ready ? 200 : 503, { status: ready ? "ready" : "not ready" }),
        () => json(503, { status: "not ready" }),
      );
      return;
    }
    if (path === "/metrics") {
      metrics.render().then(
        (text) => answer(200, text, metrics.contentType),
        () => answer(500, "metrics unavailable\n", "text/plain"),
      );
      return;
    }
    if (traces !== undefined && path === "/traces") {
      let query: ReturnType<typeof traceQueryFromParams>;
      try {
        query = traceQueryFromParams(search);
      } catch (err) {
        return json(400, { error: messageOf(err) });
      }
      traces.traces(query).then(
        (found) => json(200, { traces: found }),
        (err: unknown) => json(500, { error: messageOf(err) }),
      );
      return;
    }
    if (traces !== undefined && path.startsWith("/traces/")) {
      const id = path.slice("/traces/".length).toLowerCase();
      if (!isTraceId(id)) return json(400, { error: `not a trace id: "${id}" (32 hex characters)` });
      traces.trace(id).then(
        (spans) => (spans.length === 0 ? json(404, { error: `no trace ${id}` }) : json(200, { traceId: id, spans })),
        (err: unknown) => json(500, { error: messageOf(err) }),
      );
      return;
    }
    if (options.sagas !== undefined && (path === SAGAS_PATH || path.startsWith(`${SAGAS_PATH}/`))) {
      answerSagas(options.sagas(), path, search).then(
        ({ status, body }) => json(status, body),
        (err: unknown) => json(500, { error: messageOf(err) }),
      );
      return;
    }
    json(404, { error: "not found" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : listen.port;
  return {
    url: `http://${listen.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
