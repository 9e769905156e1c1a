/** @module The rate limiter's stable error codes (HTTP statuses follow from their categories: 429 and 503). */
import type { Status } from "@flotilla/core";

/** Codes the rate limiter raises. Never reuse a code; add new ones here and to the gateway README table. */
export const RateLimitCodes = {
  /** The caller used up its quota; Retry-After says when one more request will be admitted. */
  RATE_LIMITED: { code: "FLOTILLA_RATE_LIMITED", status: "RESOURCE_EXHAUSTED" },
  /** The shared limit store (Redis) could not be asked and the store is configured to fail closed. */
  RATE_LIMIT_UNAVAILABLE: { code: "FLOTILLA_RATE_LIMIT_UNAVAILABLE", status: "UNAVAILABLE" },
} as const satisfies Record<string, { code: string; status: Status }>;
