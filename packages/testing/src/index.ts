/** @module Test support: real-server launchers, the transport conformance suite, waiting helpers. */
export { echo, listener, relay } from "./conformance/fixtures.js";
export type { RegistryNetwork, RegistryTarget } from "./conformance/registry-conformance.js";
export { registryConformance } from "./conformance/registry-conformance.js";
export type {
  TraceStoreBounds,
  TraceStoreTarget,
  TraceStoreWorld,
} from "./conformance/trace-store-conformance.js";
export { spanOf, traceIdOf, traceStoreConformance } from "./conformance/trace-store-conformance.js";
export type { TransportNetwork, TransportTarget } from "./conformance/transport-conformance.js";
export { transportConformance } from "./conformance/transport-conformance.js";
export { type ExposedSample, parseExposition, sumOf } from "./prometheus-text.js";
export { interceptPublish } from "./publish-interceptor.js";
export * from "./servers/index.js";
export {
  pingRedis,
  type RedisServerHandle,
  type RedisServerOptions,
  redisServer,
  resolveRedisServerBinary,
} from "./servers/redis-server.js";
export { rejectionOf, sleep, waitFor } from "./wait-for.js";
