/**
 * @module The floor of the live fan-out benchmark: a bare Node server (node:http, and `ws` for
 * WebSockets) that keeps every open stream in a set and, on `POST /api/v1/broadcast`, writes one
 * pre-built message to each. No authentication, no ids per connection, no telemetry, no bounds: what
 * pushing the bytes alone costs. Started by the suite, like the gateway worker.
 */
import { createServer, type ServerResponse } from "node:http";
import { type WebSocket, WebSocketServer } from "ws";
import { BROADCAST_PATH, BROADCAST_TEXT, LIVE_PATH, monotonicUs } from "./cases.js";
import { serveRequests } from "./children.js";
import { memoryAfterGc } from "./memory.js";
import { profilerRequests } from "./profile-report.js";

const streams = new Set<ServerResponse>();
const sockets = new Set<WebSocket>();
let seq = 0;

const server = createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method === "GET" && path === LIVE_PATH) {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" });
    res.write("event: ready\ndata: {}\n\n");
    streams.add(res);
    res.once("close", () => streams.delete(res));
    return;
  }
  if (req.method === "POST" && path === BROADCAST_PATH) {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const { round } = JSON.parse(body) as { round: number };
      broadcast(round);
      res.writeHead(204).end();
    });
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ server, path: LIVE_PATH });
wss.on("connection", (ws) => {
  ws.send(JSON.stringify({ type: "ready" }));
  sockets.add(ws);
  ws.once("close", () => sockets.delete(ws));
});

function broadcast(round: number): void {
  seq++;
  const json = JSON.stringify({ type: "announcement", data: { round, sentAtUs: monotonicUs(), text: BROADCAST_TEXT } });
  const sse = `id: ${seq}\ndata: ${json}\n\n`;
  for (const res of streams) res.write(sse);
  for (const ws of sockets) ws.send(json);
}

await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const address = server.address();
if (address === null || typeof address === "string") throw new Error("no port");

process.once("SIGTERM", () => {
  for (const res of streams) res.end();
  for (const ws of sockets) ws.terminate();
  server.close(() => process.exit(0));
});

serveRequests({
  ready: () => ({ url: `http://127.0.0.1:${address.port}` }),
  memory: () => memoryAfterGc(),
  ...profilerRequests,
});
