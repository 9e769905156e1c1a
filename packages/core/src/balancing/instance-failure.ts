/** @module Which call failures say something about the instance that answered (not about the request). */
import { FlotillaError, type Status } from "../errors.js";

const UNHEALTHY: ReadonlySet<Status> = new Set([
  "UNAVAILABLE",
  "DEADLINE_EXCEEDED",
  "INTERNAL",
  "UNKNOWN",
  "DATA_LOSS",
]);

/**
 * True for failures that point at the instance (unreachable, overloaded, too slow, crashing). Domain
 * and request errors (NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION, …) prove the instance works;
 * RESOURCE_EXHAUSTED is the caller's (payload too large) or a quota, not the instance's health.
 */
export function isInstanceFailure(err: unknown): boolean {
  return UNHEALTHY.has(FlotillaError.from(err).status);
}
