/** @module The rate limit policy in a real gateway: 429 with headers, a burst of 600, waiting as told, XFF spoofing, tiers. */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Policy } from "../../src/index.js";
import { memoryRateLimitStore, type RateLimitPolicy, rateLimit } from "../../src/rate-limit/index.js";
import { expectError, startGateway, type TestGateway } from "../support/harness.js";

/** Signs a request in from test headers, as an authentication policy would. */
const testAuth: Policy = {
  name: "test-auth",
  onRequest(ex) {
    const user = ex.request.headers["x-test-user"];
    const roles = ex.request.headers["x-test-roles"];
    if (typeof user === "string") {
      ex.caller = { subject: user, roles: typeof roles === "string" ? roles.split(",") : ["customer"] };
    }
  },
};

const get = (t: TestGateway, path: string, headers: Record<string, string> = {}) =>
  fetch(`${t.url}${path}`, { headers });

describe("rate limit policy (defaults, memory store)", () => {
  let t: TestGateway;
  let limiter: RateLimitPolicy;
  beforeAll(async () => {
    limiter = rateLimit({ store: memoryRateLimitStore() });
    t = await startGateway({ policies: [testAuth, limiter] });
  });
  afterAll(() => t.stop());

  it("advertises the policy and the remaining quota on every answer", async () => {
    const res = await get(t, "/api/v1/products/p1", { "x-test-user": "headers" });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-policy")).toBe('"standard";q=300;w=60');
    expect(res.headers.get("ratelimit")).toBe('"standard";r=299;t=1');
    // Error answers carry them too.
    const missing = await get(t, "/api/v1/products/nope", { "x-test-user": "headers" });
    expect(missing.status).toBe(404);
    // 298, or 299 if the 200 ms it takes to earn one back have passed.
    expect(missing.headers.get("ratelimit")).toMatch(/^"standard";r=29[89];t=1$/);
  });

  it("admits at least 100 of 600 requests sent at once, answers the rest 429, and admits one that waits as told", async () => {
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 600 }, () => get(t, "/api/v1/products/p1")));
    const elapsedSec = (performance.now() - started) / 1000;
    const admitted = answers.filter((r) => r.status === 200);
    const limited = answers.filter((r) => r.status === 429);
    expect(admitted.length + limited.length).toBe(600);
    expect(admitted.length).toBeGreaterThanOrEqual(100);
    // The burst of 120, plus the 2 a second earned back while 600 requests squeeze through two cores.
    expect(admitted.length).toBeLessThanOrEqual(120 + Math.ceil(elapsedSec * 2) + 1);
    await Promise.all(admitted.map((r) => r.arrayBuffer()));

    const refused = limited.at(-1)!;
    const error = await expectError(refused, 429, "FLOTILLA_RATE_LIMITED");
    expect(error.details).toMatchObject({ policy: "anonymous", limit: 120, windowSec: 60 });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(refused.headers.get("ratelimit-policy")).toBe('"anonymous";q=120;w=60');
    expect(refused.headers.get("ratelimit")).toBe(`"anonymous";r=0;t=${retryAfter}`);
    await Promise.all(limited.slice(0, -1).map((r) => r.arrayBuffer()));

    await sleep(retryAfter * 1000);
    const again = await get(t, "/api/v1/products/p1");
    expect(again.status).toBe(200);
    expect(limiter.stats()).toMatchObject({ limited: limited.length, storeErrors: 0 });
  });

  it("limits signed-in callers per subject, apart from anonymous traffic and from each other", async () => {
    // Drain the anonymous bucket of 127.0.0.1: signed-in callers from the same address are not affected.
    let anonymous = 200;
    for (let i = 0; i < 200 && anonymous !== 429; i++) anonymous = (await get(t, "/api/v1/products/p1")).status;
    expect(anonymous).toBe(429);
    expect((await get(t, "/api/v1/products/p1", { "x-test-user": "alice" })).status).toBe(200);
    const admin = await get(t, "/api/v1/products/p1", { "x-test-user": "root", "x-test-roles": "admin" });
    expect(admin.headers.get("ratelimit-policy")).toBe('"admin";q=3000;w=60');
    const premium = await get(t, "/api/v1/products/p1", { "x-test-user": "pat", "x-test-roles": "customer,premium" });
    expect(premium.headers.get("ratelimit")).toBe('"premium";r=499;t=1');
  });
});

describe("rate limit policy behind proxies", () => {
  const tiers = { anonymous: { limit: 5, windowSec: 60 } };
  let direct: TestGateway;
  let proxied: TestGateway;
  beforeAll(async () => {
    direct = await startGateway({ policies: [rateLimit({ store: memoryRateLimitStore(), tiers })] });
    const behindProxy = rateLimit({ store: memoryRateLimitStore(), tiers, trustedProxies: ["127.0.0.1", "::1"] });
    proxied = await startGateway({ policies: [behindProxy] });
  });
  afterAll(async () => {
    await direct.stop();
    await proxied.stop();
  });

  it("does not let an untrusted client escape its limit by rotating X-Forwarded-For", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await get(direct, "/api/v1/products/p1", { "x-forwarded-for": `198.51.100.${i}` });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
  });

  it("gives each client behind a trusted proxy its own bucket, whatever the client prepends", async () => {
    const burst = async (xff: string) => {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await get(proxied, "/api/v1/products/p1", { "x-forwarded-for": xff.replace("$i", String(i)) });
        statuses.push(res.status);
        await res.arrayBuffer();
      }
      return statuses.filter((s) => s === 200).length;
    };
    expect(await burst("203.0.113.1")).toBe(5);
    expect(await burst("203.0.113.2")).toBe(5);
    // A client spoofing entries to the left of what the proxy appended stays in its own bucket.
    expect(await burst("10.$i.0.1, 203.0.113.3")).toBe(5);
    expect(await burst("2001:db8:aa:bb::$i")).toBe(5); // one /64, however the client rotates inside it
  });
});
