/** @module A gateway with composite routes over the shelf service and a JSON upstream, recording spans, part outcomes and logs. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHost, type Host } from "@flotilla/core";
import { LightTracer, type SpanRecord, tracing } from "@flotilla/telemetry";
import { pino } from "pino";
import { createGateway, type Gateway, type GatewayOptions, type Route } from "../../../src/index.js";
import { ShelfState, shelfService } from "./shelf.js";

export interface ComposeGateway {
  readonly url: string;
  readonly host: Host;
  readonly gateway: Gateway;
  readonly shelf: ShelfState;
  readonly spans: SpanRecord[];
  /** `route part outcome`, one per part of each request. */
  readonly parts: string[];
  readonly logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startComposeGateway(
  routes: Route[],
  extra: Omit<GatewayOptions, "host" | "routes"> = {},
): Promise<ComposeGateway> {
  const spans: SpanRecord[] = [];
  const parts: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const tracer = new LightTracer({ service: "gateway", sink: { onEnd: (span) => void spans.push(span) } });
  const shelf = new ShelfState();
  const host = createHost({
    services: [shelfService(shelf)],
    transport: "memory://?faithful=true",
    logger,
    middleware: [tracing({ tracer })],
  });
  await host.start();
  let gateway: Gateway;
  try {
    gateway = createGateway({
      host,
      routes,
      tracer,
      logger,
      compositeMetrics: { part: (route, part, outcome) => void parts.push(`${route} ${part} ${outcome}`) },
      ...extra,
    });
  } catch (err) {
    await host.stop();
    throw err;
  }
  const url = await gateway.listen({ port: 0, host: "127.0.0.1" });
  return {
    url,
    host,
    gateway,
    shelf,
    spans,
    parts,
    logs,
    async stop() {
      shelf.release();
      await gateway.close();
      await host.stop();
    },
  };
}

export interface ReviewsUpstream {
  readonly url: string;
  /** Paths asked, in order. */
  readonly asked: string[];
  /** Answers `/hang/…` once released. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A JSON upstream: `/reviews/:id` (with an internal `moderator` field), `/status/:code`, `/not-json`,
 * and `/hang/…`, which answers only once released.
 */
export async function startReviewsUpstream(): Promise<ReviewsUpstream> {
  const asked: string[] = [];
  const hung: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    asked.push(path);
    const reviews = /^\/reviews\/([^/?]+)$/.exec(path);
    if (reviews !== null) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ productId: reviews[1], averageRating: 4.5, count: 2, moderator: "internal-42" }));
    } else if (path.startsWith("/status/")) {
      res.writeHead(Number(path.slice(8))).end("{}");
    } else if (path === "/not-json") {
      res.writeHead(200, { "content-type": "text/html" }).end("<html>");
    } else if (path.startsWith("/hang/")) {
      hung.push(() => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    release: () => {
      for (const answer of hung.splice(0)) answer();
    },
    close: async () => {
      for (const answer of hung.splice(0)) answer();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
