/** @module Flotilla resilience: retries, circuit breakers, bulkheads and fallbacks as `call` middleware. */
export type { BulkheadLimits, BulkheadOptions } from "./bulkheads.js";
export { bulkheads } from "./bulkheads.js";
export type {
  BreakerSnapshot,
  BreakerState,
  BreakerStateChange,
  CircuitBreakerOptions,
  CircuitBreakers,
} from "./circuit-breakers.js";
export { circuitBreakers, isCircuitBreakers } from "./circuit-breakers.js";
export type { FallbackAnswer, FallbackSpec } from "./fallbacks.js";
export { fallbacks } from "./fallbacks.js";
export type { RetryOptions } from "./retries.js";
export { retries } from "./retries.js";
