/** @module Metrics of the gateway's response cache, in prom-client. */
import { Counter, Gauge, type Registry } from "prom-client";

/** What the gateway's response cache reports; its `cache.metrics` option takes one. */
export interface CacheMetrics {
  hit(route: string): void;
  miss(route: string): void;
  evicted(count: number): void;
  invalidated(count: number): void;
  observeBytes(read: () => number): void;
}

/**
 * Registers `flotilla_gateway_cache_hits_total` and `flotilla_gateway_cache_misses_total` (by route
 * template), `flotilla_gateway_cache_evictions_total`, `flotilla_gateway_cache_invalidations_total`
 * and `flotilla_gateway_cache_bytes` (the entries' estimated memory, read when scraped).
 */
export function cacheMetrics(registry: Registry): CacheMetrics {
  const registers = [registry];
  const hits = new Counter({
    name: "flotilla_gateway_cache_hits_total",
    help: "Answers the gateway served from its response cache, by route template.",
    labelNames: ["route"] as const,
    registers,
  });
  const misses = new Counter({
    name: "flotilla_gateway_cache_misses_total",
    help: "Requests of cached routes that reached the action (misses, revalidations, bypasses), by route template.",
    labelNames: ["route"] as const,
    registers,
  });
  const evictions = new Counter({
    name: "flotilla_gateway_cache_evictions_total",
    help: "Entries the response cache dropped to stay within its bytes, least recently used first.",
    registers,
  });
  const invalidations = new Counter({
    name: "flotilla_gateway_cache_invalidations_total",
    help: "Entries the response cache dropped because an event or a write route named them.",
    registers,
  });
  let bytes: () => number = () => 0;
  new Gauge({
    name: "flotilla_gateway_cache_bytes",
    help: "Estimated memory the response cache's entries take.",
    registers,
    collect() {
      this.set(bytes());
    },
  });
  return {
    hit: (route) => hits.labels(route).inc(),
    miss: (route) => misses.labels(route).inc(),
    evicted: (count) => evictions.inc(count),
    invalidated: (count) => invalidations.inc(count),
    observeBytes: (read) => {
      bytes = read;
    },
  };
}
