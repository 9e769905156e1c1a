/** @module A gateway with one route split (a legacy upstream vs a catalog action) behind real authentication. */

import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEdgeKeysFile, createTokenVerifier, edgeSigner, staticKeys } from "@flotilla/auth";
import { LightTracer, metrics, type SpanRecord, trafficMetrics } from "@flotilla/telemetry";
import { AUDIENCE, ISSUER, signToken, type TestKey, testKey } from "../../../auth/test/support/keys.js";
import { authenticate, proxy, route, splitRoute } from "../../src/index.js";
import { startGateway, type TestGateway } from "../support/harness.js";
import { catalog } from "../support/services.js";

/** A stand-in monolith: `/products/p1` as the catalog has it (`?typo=1` misspells its name), 404 otherwise. */
export async function startLegacy(): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    const url = new URL(req.url ?? "/", "http://legacy");
    if (url.pathname === "/health") return void res.writeHead(200).end();
    if (url.pathname !== "/products/p1")
      return void res.writeHead(404, { "content-type": "application/json" }).end("{}");
    const name = url.searchParams.get("typo") ? "Tea pot" : "Teapot";
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ price: 12.5, name, id: "p1" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface SplitGateway extends TestGateway {
  readonly spans: SpanRecord[];
  metricsText(): Promise<string>;
  bearer(claims: Record<string, unknown>): Promise<Record<string, string>>;
}

export const SPLIT_PATH = "/api/v1/products/:id";

export async function startSplitGateway(): Promise<SplitGateway> {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-traffic-"));
  const edgeKeys = await createEdgeKeysFile(join(dir, "edge.jwks.json"));
  const key: TestKey = await testKey("k1");
  const tokens = createTokenVerifier({
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: staticKeys({ keys: [key.jwk] }) }],
  });
  const legacy = await startLegacy();
  const spans: SpanRecord[] = [];
  const tracer = new LightTracer({ service: "gateway", sink: { onEnd: (span) => void spans.push(span) } });
  const registry = metrics().registry;
  const t = await startGateway({
    routes: [],
    policies: [authenticate({ tokens, edge: edgeSigner(edgeKeys) })],
    tracer,
    upstreams: { legacy: { targets: [legacy.url] } },
    splits: {
      products: splitRoute({
        name: "products",
        method: "GET",
        path: SPLIT_PATH,
        variants: {
          legacy: proxy({
            path: SPLIT_PATH,
            methods: ["GET"],
            upstream: "legacy",
            rewrite: (req) => `/products/${encodeURIComponent(req.params.id)}${req.search}`,
          }),
          service: route({
            method: "GET",
            path: SPLIT_PATH,
            action: catalog.getProduct,
            input: (r) => ({ id: r.params.id }),
          }),
        },
        default: "legacy",
        deprecated: {
          since: "2026-01-01T00:00:00Z",
          sunset: "2027-01-01T00:00:00Z",
          link: "https://shop.example/api-v2",
        },
      }),
    },
    traffic: { metrics: trafficMetrics(registry) },
  });
  return {
    ...t,
    spans,
    metricsText: () => registry.metrics(),
    bearer: async (claims) => ({ authorization: `Bearer ${await signToken(key, claims)}` }),
    stop: async () => {
      await t.stop();
      await legacy.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it holds (shadow calls finish after their request's answer). */
export async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
