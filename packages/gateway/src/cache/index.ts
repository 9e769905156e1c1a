/** @module Response caching at the gateway: per-route declarations, the gateway's limits, and what it reports. */
export type {
  CacheInvalidation,
  CacheMetrics,
  CacheVary,
  GatewayCacheOptions,
  RouteCacheSpec,
} from "./cache-options.js";
export { CACHE_DEFAULTS, onEvent } from "./cache-options.js";
export type { CacheStatus } from "./route-cache.js";
