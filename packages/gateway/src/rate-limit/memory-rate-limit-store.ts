/** @module In-process rate limit store: synchronous, bounded, for one gateway instance (or tests). */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { type Decision, type GcraParams, gcra, gcraParams, type RateLimit } from "./gcra.js";
import type { RateLimitStore } from "./rate-limit-store.js";

export interface MemoryRateLimitStoreOptions {
  /** Most keys kept at once (default 100 000, about 10 MB). */
  maxKeys?: number;
}

export interface MemoryRateLimitStore extends RateLimitStore {
  /** Synchronous: it sits on every request, so no promise is allocated. */
  take(key: string, limit: RateLimit, now?: number): Decision;
  /** Keys currently held. */
  size(): number;
}

/** Each sweep frees at least this share of the capacity, so sweeping stays amortized O(1) per new key. */
const SWEEP_FREES = 0.1;

// Monotonic: a wall clock stepped back by NTP would put every TAT in the future and refuse everyone.
const monotonicMs = () => performance.timeOrigin + performance.now();

export function memoryRateLimitStore(opts: MemoryRateLimitStoreOptions = {}): MemoryRateLimitStore {
  const maxKeys = opts.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, "memoryRateLimitStore: maxKeys must be a positive integer");
  }
  // Map order is insertion order; re-inserting on every take makes it least-recently-seen first.
  const tats = new Map<string, number>();
  const params = new WeakMap<RateLimit, GcraParams>();

  const sweep = (nowUs: number) => {
    // A key whose TAT has passed has its full burst back: forgetting it changes no decision.
    for (const [key, tat] of tats) if (tat <= nowUs) tats.delete(key);
    // Under a flood of fresh keys (random IPs) nothing has expired: forget the least recently seen.
    const target = Math.floor(maxKeys * (1 - SWEEP_FREES));
    for (const key of tats.keys()) {
      if (tats.size <= target) break;
      tats.delete(key);
    }
  };

  return {
    take(key, limit, now = monotonicMs()) {
      let p = params.get(limit);
      if (p === undefined) {
        p = gcraParams(limit);
        params.set(limit, p);
      }
      const nowUs = Math.floor(now * 1000);
      const stored = tats.get(key);
      const { tatUs, decision } = gcra(stored, nowUs, p);
      if (stored !== undefined) tats.delete(key);
      else if (tats.size >= maxKeys) sweep(nowUs);
      const keep = tatUs ?? stored;
      if (keep !== undefined) tats.set(key, keep);
      return decision;
    },
    size: () => tats.size,
    close() {
      tats.clear();
    },
  };
}
