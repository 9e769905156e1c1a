/** @module Cache test support: a gateway over the shelf service with cached routes, metrics that count, HTTP helpers. */
import { createHost, type Host } from "@flotilla/core";
import { memoryTraceStore, type TraceStore, traceRecorder } from "@flotilla/telemetry";
import {
  type CacheMetrics,
  createGateway,
  type Gateway,
  type GatewayCacheOptions,
  onEvent,
  type Policy,
  route,
} from "../../src/index.js";
import { ShelfState, shelf, shelfService, userHeader } from "./shelf.js";

export interface Counted {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
  bytes: () => number;
}

export function countingMetrics(): { counts: Counted; metrics: CacheMetrics } {
  const counts: Counted = { hits: 0, misses: 0, evictions: 0, invalidations: 0, bytes: () => 0 };
  const metrics: CacheMetrics = {
    hit: () => void counts.hits++,
    miss: () => void counts.misses++,
    evicted: (n) => {
      counts.evictions += n;
    },
    invalidated: (n) => {
      counts.invalidations += n;
    },
    observeBytes: (read) => {
      counts.bytes = read;
    },
  };
  return { counts, metrics };
}

const byId = { input: (req: { params: { id: string } }) => ({ id: req.params.id }) };

export const cachedRoutes = [
  route({
    method: "GET",
    path: "/items/:id",
    action: shelf.item,
    ...byId,
    cache: {
      ttlSec: 30,
      tags: (item) => [`item:${item.id}`],
      invalidateOn: [onEvent(shelf.PriceChanged, (e) => [`item:${e.id}`])],
    },
  }),
  route({ method: "GET", path: "/shared/items/:id", action: shelf.item, ...byId, cache: { ttlSec: 30, shared: true } }),
  route({
    method: "GET",
    path: "/tiered/items/:id",
    action: shelf.item,
    ...byId,
    cache: { ttlSec: 30, shared: true, varyBy: ["tier"] },
  }),
  route({ method: "GET", path: "/short/items/:id", action: shelf.item, ...byId, cache: { ttlSec: 0.2 } }),
  route({ method: "GET", path: "/plain/items/:id", action: shelf.item, ...byId }),
  route({
    method: "GET",
    path: "/list",
    action: shelf.list,
    cache: { ttlSec: 30, clientMaxAgeSec: 0, invalidateOn: [onEvent(shelf.PriceChanged)] },
  }),
  route({ method: "GET", path: "/blobs/:id", action: shelf.blob, cache: { ttlSec: 60 } }),
  route({ method: "GET", path: "/nothing", action: shelf.nothing, cache: { ttlSec: 60 } }),
  route({
    method: "PATCH",
    path: "/items/:id",
    action: shelf.setPrice,
    input: (req) => ({ ...(req.body as object), id: req.params.id }) as { id: string; price: number },
    invalidates: (item) => [`item:${item.id}`],
  }),
];

export interface CacheWorld {
  readonly state: ShelfState;
  readonly host: Host;
  readonly gateway: Gateway;
  readonly url: string;
  readonly counts: Counted;
  readonly traces: TraceStore;
  /** Requests that reached the gateway's policies, by path: a request counted here has passed the HTTP layer. */
  readonly arrivals: Map<string, number>;
  stop(): Promise<void>;
}

/** The shelf service and a gateway in front of it, in one process. */
export async function startCacheWorld(cache: Omit<GatewayCacheOptions, "metrics"> = {}): Promise<CacheWorld> {
  const state = new ShelfState();
  const host = createHost({ services: [shelfService(state)], transport: "memory://?faithful=1" });
  await host.start();
  const { counts, metrics } = countingMetrics();
  const traces = memoryTraceStore();
  const arrivals = new Map<string, number>();
  const countArrivals: Policy = {
    name: "count-arrivals",
    onRequest(exchange) {
      const path = exchange.request.params.id === undefined ? exchange.route.path : exchange.request.params.id;
      arrivals.set(path, (arrivals.get(path) ?? 0) + 1);
    },
  };
  const recorder = traceRecorder({ service: "gateway", store: traces, env: {} });
  const gateway = createGateway({
    host,
    routes: cachedRoutes,
    policies: [userHeader, countArrivals],
    accessLog: false,
    tracer: recorder.tracer,
    cache: { ...cache, metrics },
  });
  const url = await gateway.listen();
  return {
    state,
    host,
    gateway,
    url,
    counts,
    traces,
    arrivals,
    async stop() {
      await gateway.close();
      await host.stop();
      await recorder.close();
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

export async function get(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  const res = await fetch(url, { method, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text === "" ? {} : JSON.parse(text) };
}
