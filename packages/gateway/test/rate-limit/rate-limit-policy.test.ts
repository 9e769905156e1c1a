/** @module The policy on its own: tier choice, keys, a store that fails, configuration errors. */
import type { Identity } from "@flotilla/core";
import { describe, expect, it } from "vitest";
import type { Exchange } from "../../src/index.js";
import { memoryRateLimitStore, type RateLimitStore, rateLimit } from "../../src/rate-limit/index.js";

function exchange(caller?: Identity): Exchange & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return {
    request: { method: "GET", params: {}, query: {}, body: undefined, headers: {}, remoteAddress: "192.0.2.1" },
    caller,
    headers,
    setHeader: (name, value) => {
      headers[name.toLowerCase()] = value;
    },
  } as Exchange & { headers: Record<string, string> };
}

describe("rateLimit policy", () => {
  it("picks the tier an identity names when the table has it, and keys signed-in callers by subject", async () => {
    const keys: string[] = [];
    const store = memoryRateLimitStore();
    const recording: RateLimitStore = {
      take(key, limit) {
        keys.push(key);
        return store.take(key, limit);
      },
      close() {},
    };
    const policy = rateLimit({ store: recording, tiers: { partner: { limit: 10, windowSec: 1 } } });
    const ex = exchange({ subject: "acme", roles: ["machine"], tier: "partner" });
    await policy.onRequest!(ex);
    expect(ex.headers["ratelimit-policy"]).toBe('"partner";q=10;w=1');
    await policy.onRequest!(exchange({ subject: "bob", roles: ["customer"], tier: "unknown" }));
    await policy.onRequest!(exchange());
    expect(keys).toEqual([
      "rate-limit:partner:sub:acme",
      "rate-limit:standard:sub:bob",
      "rate-limit:anonymous:ip:192.0.2.1",
    ]);
  });

  it("answers 503 with Retry-After when a store fails without a code of its own", async () => {
    const broken: RateLimitStore = { take: () => Promise.reject(new Error("connection reset")), close() {} };
    const policy = rateLimit({ store: broken });
    const ex = exchange();
    await expect(policy.onRequest!(ex)).rejects.toMatchObject({
      code: "FLOTILLA_RATE_LIMIT_UNAVAILABLE",
      status: "UNAVAILABLE",
      retryable: true,
    });
    expect(ex.headers["retry-after"]).toBe("1");
    expect(policy.stats()).toEqual({ allowed: 0, limited: 0, storeErrors: 1 });
  });

  it("refuses bad configuration at construction", () => {
    const store = memoryRateLimitStore();
    expect(() => rateLimit({ store, tiers: { standard: { limit: -1, windowSec: 60 } } })).toThrowError(
      expect.objectContaining({ code: "FLOTILLA_CONFIG" }),
    );
    expect(() => rateLimit({ store, trustedProxies: ["example.com"] })).toThrowError(
      expect.objectContaining({ code: "FLOTILLA_CONFIG" }),
    );
    expect(() => rateLimit({ store, tiers: { "tier\u00e9": { limit: 1, windowSec: 1 } } })).toThrowError(
      expect.objectContaining({ code: "FLOTILLA_CONFIG" }),
    );
  });
});
