/** @module A plain node:http upstream for proxy tests, with well-behaved and hostile routes; runs in-process or as a child. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface TestUpstream {
  readonly url: string;
  readonly name: string;
  readonly server: Server;
  /** Requests this instance received, by path (health checks included). */
  readonly hits: Map<string, number>;
  /** Whether `/health` answers 200 (true) or 503. */
  healthy: boolean;
  close(): Promise<void>;
}

/**
 * Routes:
 * - `/echo…`: the request as JSON `{ instance, method, url, headers, body }`, with hop-by-hop headers
 *   (and one the answer's `Connection` names) that the gateway must strip;
 * - `/stream?chunks=N&size=S`: N chunks of S bytes, chunked;
 * - `/status/:code`: an empty answer with that status;
 * - `/slow-head?ms=M`: the head after M ms;
 * - `/slow-body`: the head and 5 bytes, then nothing;
 * - `/huge-head`: a 64 KiB header;
 * - `/health`: 200 or 503 as `healthy` says.
 */
export async function startTestUpstream(name: string, port = 0): Promise<TestUpstream> {
  const hits = new Map<string, number>();
  const state = { healthy: true };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://upstream");
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const path = url.pathname;
    if (path === "/health") {
      res.writeHead(state.healthy ? 200 : 503).end();
    } else if (path.startsWith("/echo")) {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of req) chunks.push(chunk as Buffer);
      } catch {
        return; // the gateway gave up on the request (a body over its limit): nothing to answer
      }
      const text = JSON.stringify({
        instance: name,
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(200, {
        "content-type": "application/json",
        connection: "keep-alive, x-hop-secret",
        "x-hop-secret": "must not reach the client",
        "keep-alive": "timeout=5",
        "proxy-authenticate": "Basic",
        "x-trace-id": "upstream-made-this-up",
        "x-end-to-end": "kept",
      });
      res.end(text);
    } else if (path === "/stream") {
      const chunks = Number(url.searchParams.get("chunks") ?? 4);
      const size = Number(url.searchParams.get("size") ?? 1024);
      res.writeHead(200, { "content-type": "application/octet-stream" });
      for (let i = 0; i < chunks; i++) {
        if (!res.write(Buffer.alloc(size, 97 + (i % 26)))) await new Promise((r) => res.once("drain", r));
      }
      res.end();
    } else if (path.startsWith("/status/")) {
      res.writeHead(Number(path.slice(8))).end();
    } else if (path === "/slow-head") {
      setTimeout(() => res.writeHead(200).end("late"), Number(url.searchParams.get("ms") ?? 1000));
    } else if (path === "/slow-body") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("start");
    } else if (path === "/huge-head") {
      res.writeHead(200, { "x-huge": "h".repeat(64 * 1024) }).end("ok");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    name,
    server,
    hits,
    get healthy() {
      return state.healthy;
    },
    set healthy(value: boolean) {
      state.healthy = value;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
