/**
 * @module GCRA (generic cell rate algorithm): the rate limit arithmetic every store shares.
 *
 * Why GCRA: it behaves exactly like a token bucket (a burst, then a steady rate) but its whole state is
 * one number per key, the theoretical arrival time (TAT), with no refill bookkeeping, so a decision is
 * O(1) and fits in one atomic Redis script. Sliding windows need a log of timestamps or two counters per
 * key and are either approximate or O(requests); fixed windows let a client double its burst at a window
 * edge.
 */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";

/** A limit: `limit` requests per `windowSec` sustained, with up to `burst` (default `limit`) at once. */
export interface RateLimit {
  readonly limit: number;
  readonly windowSec: number;
  readonly burst?: number;
}

export interface Decision {
  readonly allowed: boolean;
  /** Requests that would be admitted right now, after this one. */
  readonly remaining: number;
  /** Whole seconds (rounded up) until the full burst is available again. */
  readonly resetSec: number;
  /** Whole seconds (rounded up, at least 1) until one more request is admitted; 0 when allowed. */
  readonly retryAfterSec: number;
  /** Set when the store could not be asked and failed open: the other numbers mean nothing. */
  readonly degraded?: boolean;
}

/** A limit in the integer microseconds the algorithm works in. */
export interface GcraParams {
  /** Emission interval: the time one request "costs". */
  readonly intervalUs: number;
  /** Burst tolerance: how far ahead of now the TAT may run, `burst × interval`. */
  readonly toleranceUs: number;
}

/**
 * Microseconds rather than fractional milliseconds so every quantity is an integer well below 2^53
 * (Redis TIME is microseconds too): the JavaScript and Lua versions then agree to the last digit.
 */
export function gcraParams(limit: RateLimit): GcraParams {
  const burst = limit.burst ?? limit.limit;
  const valid = (n: number) => Number.isFinite(n) && n > 0;
  if (!valid(limit.limit) || !valid(limit.windowSec) || !Number.isInteger(burst) || burst < 1) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, "a rate limit needs positive limit and windowSec, and burst ≥ 1", {
      details: { limit },
    });
  }
  const intervalUs = Math.max(1, Math.round((limit.windowSec * 1e6) / limit.limit));
  return { intervalUs, toleranceUs: intervalUs * burst };
}

/** One decision: the TAT to store (undefined when refused, the stored one stays) and the answer. */
export function gcra(
  storedTatUs: number | undefined,
  nowUs: number,
  p: GcraParams,
): { tatUs: number | undefined; decision: Decision } {
  const tat = storedTatUs === undefined || storedTatUs < nowUs ? nowUs : storedTatUs;
  const newTat = tat + p.intervalUs;
  const allowAt = newTat - p.toleranceUs;
  if (nowUs < allowAt) {
    return { tatUs: undefined, decision: decision(false, 0, tat - nowUs, allowAt - nowUs) };
  }
  const remaining = Math.floor((nowUs - allowAt) / p.intervalUs);
  return { tatUs: newTat, decision: decision(true, remaining, newTat - nowUs, 0) };
}

/** Builds a Decision from microsecond durations, rounding up so a client that waits as told gets through. */
export function decision(allowed: boolean, remaining: number, resetUs: number, retryAfterUs: number): Decision {
  return {
    allowed,
    remaining,
    resetSec: Math.ceil(resetUs / 1e6),
    retryAfterSec: allowed ? 0 : Math.max(1, Math.ceil(retryAfterUs / 1e6)),
  };
}
