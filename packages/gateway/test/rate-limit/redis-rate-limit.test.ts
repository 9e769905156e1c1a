/** @module The Redis store against a real redis-server: one limit across two gateways, outages open and closed, recovery. */
import { type RedisServerHandle, redisServer, waitFor } from "@flotilla/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RateLimit,
  type RateLimitPolicy,
  type RedisRateLimitStore,
  rateLimit,
  redisRateLimitStore,
} from "../../src/rate-limit/index.js";
import { expectError, startGateway, type TestGateway } from "../support/harness.js";

// Slow enough that nothing refills during a test: 50 an hour.
const tiers = { anonymous: { limit: 50, windowSec: 3600 } };
const PATH = "/api/v1/products/p1";

async function statuses(url: string, n: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const res = await fetch(`${url}${PATH}`);
      await res.arrayBuffer();
      return res.status;
    }),
  );
}

const count = (list: number[], status: number) => list.filter((s) => s === status).length;

describe("redis rate limit store", () => {
  let redis: RedisServerHandle;
  let openStore: RedisRateLimitStore;
  let closedStore: RedisRateLimitStore;
  let storeB: RedisRateLimitStore;
  let openLimiter: RateLimitPolicy;
  let closedLimiter: RateLimitPolicy;
  let a: TestGateway;
  let b: TestGateway;
  let strict: TestGateway;
  const warnings: object[] = [];

  beforeAll(async () => {
    redis = await redisServer();
    const log = { warn: (obj: object) => warnings.push(obj) };
    // A generous timeout: on a busy two-core machine 50 ms can pass without Redis being slow, and a
    // request admitted unmetered would spoil the exact counts. The timeout has its own test below.
    const timeoutMs = 2000;
    openStore = redisRateLimitStore({ url: redis.url, log, warnIntervalMs: 60_000, timeoutMs });
    closedStore = redisRateLimitStore({ url: redis.url, onError: "closed", prefix: "strict:", timeoutMs });
    openLimiter = rateLimit({ store: openStore, tiers });
    closedLimiter = rateLimit({ store: closedStore, tiers });
    // Two gateways, each with its own host and its own client, sharing one Redis and one policy's keys.
    a = await startGateway({ policies: [openLimiter] });
    storeB = redisRateLimitStore({ url: redis.url, timeoutMs });
    b = await startGateway({ policies: [rateLimit({ store: storeB, tiers })] });
    strict = await startGateway({ policies: [closedLimiter] });
    for (const store of [openStore, storeB, closedStore]) {
      const ready = () =>
        Promise.resolve(store.take("warmup", tiers.anonymous)).then(
          (d) => !d.degraded,
          () => false,
        );
      await waitFor(ready, { what: "redis stores" });
    }
  });
  afterAll(async () => {
    for (const t of [a, b, strict]) await t?.stop();
    await openStore?.close();
    await closedStore?.close();
    await storeB?.close();
    await redis?.stop();
  });

  it("computes the same decisions as the memory store, on Redis time", async () => {
    const limit: RateLimit = { limit: 10, windowSec: 3600, burst: 3 };
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await openStore.take("unit", limit));
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(decisions[3]).toMatchObject({ retryAfterSec: 360, resetSec: 1080 });
    // The key expires with its TAT, so idle buckets cost Redis nothing.
    const probe = new Redis(redis.url);
    const ttl = await probe.pttl("flotilla:rl:unit");
    await probe.quit();
    expect(ttl).toBeGreaterThan(1_079_000);
    expect(ttl).toBeLessThanOrEqual(1_080_000);
  });

  it("holds one limit across two gateways: 30 to each, exactly 50 admitted", async () => {
    // Errors before this point are the warm-up's, while the clients were still connecting.
    const errorsBefore = openStore.errors() + storeB.errors();
    const [toA, toB] = await Promise.all([statuses(a.url, 30), statuses(b.url, 30)]);
    expect(count([...toA, ...toB], 200)).toBe(50);
    expect(count([...toA, ...toB], 429)).toBe(10);
    expect(openStore.errors() + storeB.errors()).toBe(errorsBefore);
  });

  it("fails open by default when Redis is down, counting and warning once; closed answers 503 with Retry-After", async () => {
    await redis.stop();
    const before = openLimiter.stats().storeErrors;
    const passed = await statuses(a.url, 20);
    expect(count(passed, 200)).toBe(20);
    expect(openLimiter.stats().storeErrors - before).toBe(20);
    expect(openStore.errors()).toBeGreaterThanOrEqual(20);
    // One warning per interval (60 s here), however many requests failed: this outage, and any failed warm-up.
    expect(warnings).toHaveLength(1);

    const res = await fetch(`${strict.url}${PATH}`);
    expect(res.headers.get("retry-after")).toBe("1");
    await expectError(res, 503, "FLOTILLA_RATE_LIMIT_UNAVAILABLE");
    expect(closedLimiter.stats().storeErrors).toBeGreaterThanOrEqual(1);
  });

  it("resumes limiting once Redis is back on the same port", async () => {
    await redis.start();
    // The client reconnects on its own; the restarted Redis is empty, so the quota starts afresh.
    await waitFor(async () => (await fetch(`${strict.url}${PATH}`)).status === 200, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: "the closed store to reconnect",
    });
    for (const store of [openStore, storeB]) {
      await waitFor(async () => !(await store.take("probe", tiers.anonymous)).degraded, {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: "the open stores to reconnect",
      });
    }
    const [toA, toB] = await Promise.all([statuses(a.url, 30), statuses(b.url, 30)]);
    expect(count([...toA, ...toB], 200)).toBe(50);
  });

  it("treats a Redis slower than timeoutMs as unavailable, without waiting for it", async () => {
    const admin = new Redis(redis.url);
    const store = redisRateLimitStore({ url: redis.url, timeoutMs: 50 });
    try {
      await waitFor(async () => !(await store.take("warmup", tiers.anonymous)).degraded, { what: "redis store" });
      const errorsBefore = store.errors();
      await admin.call("CLIENT", "PAUSE", "1000", "ALL");
      const started = performance.now();
      const d = await store.take("slow", tiers.anonymous);
      expect(d.degraded).toBe(true);
      expect(performance.now() - started).toBeLessThan(500);
      expect(store.errors()).toBe(errorsBefore + 1);
    } finally {
      await admin.call("CLIENT", "UNPAUSE").catch(() => {});
      await admin.quit();
      await store.close();
    }
  });
});
