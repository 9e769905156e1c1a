/** @module Which failures mean "the dependency could not answer", as opposed to "it answered no". */
import { FlotillaCodes, FlotillaError, isInstanceFailure } from "@flotilla/core";

/** Raised on this side before anything was sent: they say nothing about the instance. */
const LOCAL: ReadonlySet<string> = new Set([
  FlotillaCodes.CIRCUIT_OPEN.code,
  FlotillaCodes.BULKHEAD_FULL.code,
  FlotillaCodes.DISCONNECTED.code,
]);

/**
 * Unreachable, overloaded, too slow or crashing (the same set as core's `isInstanceFailure`). Domain
 * and request errors (NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION, PERMISSION_DENIED, …) prove
 * the dependency works; RESOURCE_EXHAUSTED is a quota or the caller's oversized payload.
 */
export function isDependencyFailure(err: unknown): boolean {
  return isInstanceFailure(err);
}

/** A dependency failure that the instance itself produced, which is what a circuit breaker counts. */
export function countsAgainstInstance(err: unknown): boolean {
  return isInstanceFailure(err) && !LOCAL.has(FlotillaError.from(err).code);
}
