/** @module An instance's operations port: /livez, /readyz and /metrics (Prometheus text). */
import { createServer, type Server } from "node:http";
import type { Host } from "@flotilla/core";

export interface OpsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startOpsServer(
  host: Host,
  metrics: { render(): Promise<string>; contentType: string },
  listen: { port: number; host: string },
): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const answer = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET") return answer(405, JSON.stringify({ error: "method not allowed" }));
    if (path === "/livez") return answer(200, JSON.stringify({ status: "ok" }));
    if (path === "/readyz") {
      host.isReady().then(
        (ready) => answer(ready ? 200 : 503, JSON.stringify({ status: ready ? "ready" : "not ready" })),
        () => answer(503, JSON.stringify({ status: "not ready" })),
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
    answer(404, JSON.stringify({ error: "not found" }));
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
