/** @module Rate limits and quotas at the gateway: the GCRA policy, its stores, headers and error codes. */
export { addressBucket, clientAddress, normalizeIp, trustedProxyList } from "./client-address.js";
export type { Decision, RateLimit } from "./gcra.js";
export {
  type MemoryRateLimitStore,
  type MemoryRateLimitStoreOptions,
  memoryRateLimitStore,
} from "./memory-rate-limit-store.js";
export { RateLimitCodes } from "./rate-limit-errors.js";
export {
  type RateLimitOptions,
  type RateLimitPolicy,
  type RateLimitStats,
  rateLimit,
} from "./rate-limit-policy.js";
export type { RateLimitStore } from "./rate-limit-store.js";
export { rateLimitField, rateLimitPolicyField } from "./ratelimit-headers.js";
export {
  type RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
  redisRateLimitStore,
} from "./redis-rate-limit-store.js";
export { DEFAULT_TIERS, type TierName, type TierTable, tierOf } from "./tiers.js";
