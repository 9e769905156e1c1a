import { afterEach, describe, expect, it } from "vitest";
import { retries } from "../src/index.js";
import { type Cluster, cluster, flaky, loadBalancing, settle, spy } from "./cluster.js";

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

describe("retries", () => {
  it("retries an idempotent call that failed with a retryable error, counting attempts", async () => {
    const attempts = spy();
    c = await cluster(["a"], () => [retries({ baseMs: 1 }), attempts]);
    c.script.set("flaky-a", "unavailable", "unavailable", "ok");
    expect(await c.caller.call(flaky.read, {})).toEqual({ instance: "flaky-a" });
    expect(attempts.seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
  });

  it("gives up after maxAttempts with the last error", async () => {
    c = await cluster(["a"], () => [retries({ maxAttempts: 2, baseMs: 1 })]);
    c.script.set("flaky-a", "unavailable");
    const result = await settle(c.caller.call(flaky.read, {}));
    expect(result.ok ? undefined : result.error).toMatchObject({ code: "UNAVAILABLE" });
    expect(c.script.count("flaky-a")).toBe(2);
  });

  it("never retries an action that is not idempotent, nor an error that is not retryable", async () => {
    c = await cluster(["a"], () => [retries({ baseMs: 1 })]);
    c.script.set("flaky-a", "unavailable");
    expect(await settle(c.caller.call(flaky.write, {}))).toMatchObject({ ok: false, error: { code: "UNAVAILABLE" } });
    expect(c.script.count("flaky-a")).toBe(1);
    for (const behaviour of ["not-found", "internal"] as const) {
      c.script.set("flaky-a", behaviour);
      await settle(c.caller.call(flaky.read, {}));
    }
    expect(c.script.count("flaky-a")).toBe(3);
  });

  it("stops at the deadline, each attempt getting only the time that remains", async () => {
    const attempts = spy();
    c = await cluster(["a"], () => [retries({ maxAttempts: 1_000, baseMs: 5, maxMs: 20 }), attempts]);
    c.script.set("flaky-a", "unavailable");
    const result = await settle(c.caller.call(flaky.read, {}, { timeoutMs: 200 }));
    expect(result.ok).toBe(false);
    const timeouts = attempts.seen.map((s) => s.timeoutMs);
    expect(timeouts.length).toBeGreaterThan(1);
    expect(timeouts.length).toBeLessThan(1_000);
    expect(timeouts[0]).toBeLessThanOrEqual(200);
    for (let i = 1; i < timeouts.length; i++) {
      expect(timeouts[i]).toBeLessThanOrEqual(timeouts[i - 1] as number);
      expect(timeouts[i]).toBeGreaterThan(0);
    }
    expect(timeouts.at(-1)).toBeLessThan(200);
  });

  it("does not retry an attempt that used up the deadline", async () => {
    c = await cluster(["a"], () => [retries({ baseMs: 1 })]);
    c.script.set("flaky-a", { sleepMs: 150 });
    const result = await settle(c.caller.call(flaky.read, {}, { timeoutMs: 50 }));
    expect(result).toMatchObject({ ok: false, error: { code: "DEADLINE_EXCEEDED" } });
    expect(c.script.count("flaky-a")).toBe(1);
  });

  it("lets the balancer choose again on a retry, but keeps an instance the caller pinned", async () => {
    const attempts = spy();
    c = await cluster(["a", "b"], (registry) => [
      retries({ maxAttempts: 2, baseMs: 1 }),
      attempts,
      loadBalancing({ registry }),
    ]);
    c.script.set("flaky-a", "unavailable");
    for (let i = 0; i < 10; i++) expect(await c.caller.call(flaky.read, {})).toEqual({ instance: "flaky-b" });
    expect(c.script.count("flaky-a")).toBeGreaterThan(0);
    expect(attempts.seen.every((s) => s.instance === undefined)).toBe(true);
    attempts.seen.length = 0;
    const pinned = await settle(c.caller.call(flaky.read, {}, { instance: "flaky-a" }));
    expect(pinned.ok).toBe(false);
    expect(attempts.seen.map((s) => s.instance)).toEqual(["flaky-a", "flaky-a"]);
  });
});
