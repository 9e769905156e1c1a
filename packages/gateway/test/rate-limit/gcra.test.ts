/** @module GCRA through the memory store with an injected clock: burst, refusal, waiting as told, steady rate, bounds. */
import { describe, expect, it } from "vitest";
import { memoryRateLimitStore, type RateLimit } from "../../src/rate-limit/index.js";

const T0 = 1_700_000_000_000; // ms, a realistic epoch so microsecond arithmetic runs at full size

describe("GCRA (memory store)", () => {
  const limit: RateLimit = { limit: 10, windowSec: 10 }; // one request per second, burst 10

  it("admits the burst, refuses the next with the exact retry-after, and admits once that has passed", () => {
    const store = memoryRateLimitStore();
    const remaining = Array.from({ length: 10 }, () => store.take("k", limit, T0));
    expect(remaining.every((d) => d.allowed)).toBe(true);
    expect(remaining.map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(remaining[9]!.resetSec).toBe(10);

    const refused = store.take("k", limit, T0);
    expect(refused).toEqual({ allowed: false, remaining: 0, resetSec: 10, retryAfterSec: 1 });
    // A refusal costs nothing: still refused a moment before the retry-after, admitted at it.
    expect(store.take("k", limit, T0 + 999).allowed).toBe(false);
    const after = store.take("k", limit, T0 + 1000);
    expect(after).toMatchObject({ allowed: true, remaining: 0 });
    expect(store.take("other", limit, T0).allowed).toBe(true);
  });

  it("rounds a sub-second retry-after up to whole seconds, never 0", () => {
    const store = memoryRateLimitStore();
    const fast: RateLimit = { limit: 100, windowSec: 1, burst: 1 };
    expect(store.take("k", fast, T0).allowed).toBe(true);
    expect(store.take("k", fast, T0 + 5)).toMatchObject({ allowed: false, retryAfterSec: 1 });
    expect(store.take("k", fast, T0 + 10).allowed).toBe(true);
  });

  it("honours the steady rate after the burst, exactly", () => {
    const store = memoryRateLimitStore();
    const steady: RateLimit = { limit: 120, windowSec: 60, burst: 5 }; // one per 500 ms
    let admitted = 0;
    // 100 ms ticks over 60 s after draining the burst: exactly one admission per 500 ms.
    for (let i = 0; i < 5; i++) store.take("k", steady, T0);
    for (let t = 100; t <= 60_000; t += 100) if (store.take("k", steady, T0 + t).allowed) admitted++;
    expect(admitted).toBe(120);
  });

  it("gives the full burst back after a quiet window", () => {
    const store = memoryRateLimitStore();
    for (let i = 0; i < 10; i++) store.take("k", limit, T0);
    expect(store.take("k", limit, T0 + 10_000).remaining).toBe(9);
  });

  it("honours an explicit burst and fractional rates", () => {
    const store = memoryRateLimitStore();
    const odd: RateLimit = { limit: 7, windowSec: 3, burst: 2 }; // 428 571 µs per request
    expect(store.take("k", odd, T0).allowed).toBe(true);
    expect(store.take("k", odd, T0).allowed).toBe(true);
    const refused = store.take("k", odd, T0);
    expect(refused).toMatchObject({ allowed: false, retryAfterSec: 1 });
    expect(store.take("k", odd, T0 + 428).allowed).toBe(false);
    expect(store.take("k", odd, T0 + 429).allowed).toBe(true);
  });

  it("rejects nonsense limits", () => {
    const store = memoryRateLimitStore();
    for (const bad of [
      { limit: 0, windowSec: 1 },
      { limit: 1, windowSec: 0 },
      { limit: 1, windowSec: 1, burst: 0.5 },
    ]) {
      expect(() => store.take("k", bad, T0)).toThrowError(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
    }
  });

  it("stays bounded under 100k random keys, forgetting expired keys before live ones", () => {
    const store = memoryRateLimitStore({ maxKeys: 10_000 });
    const tight: RateLimit = { limit: 1, windowSec: 3600 };
    // A key that is being limited, seen again and again throughout the flood.
    expect(store.take("abuser", tight, T0).allowed).toBe(true);
    let largest = 0;
    let abuserAdmitted = 0;
    for (let i = 0; i < 100_000; i++) {
      store.take(`ip:${Math.random()}`, tight, T0 + i);
      if (i % 1000 === 0 && store.take("abuser", tight, T0 + i).allowed) abuserAdmitted++;
      largest = Math.max(largest, store.size());
    }
    expect(largest).toBeLessThanOrEqual(10_000);
    expect(abuserAdmitted).toBe(0);
    // Once everything has expired, a full store forgets expired keys only, keeping the live one.
    const later = T0 + 100_000 + 3_600_000 * 2;
    expect(store.take("fresh", tight, later).allowed).toBe(true);
    for (let i = 1; i < 9_000; i++) store.take(`new:${i}`, tight, later);
    store.take("one-more", tight, later);
    expect(store.take("fresh", tight, later).allowed).toBe(false);
  });
});
