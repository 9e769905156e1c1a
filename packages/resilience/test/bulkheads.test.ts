import { afterEach, describe, expect, it } from "vitest";
import { bulkheads } from "../src/index.js";
import { type Cluster, cluster, flaky, settle, spy } from "./cluster.js";

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

describe("bulkheads", () => {
  it("runs at most maxConcurrent calls per action, queues maxQueued, refuses the rest", async () => {
    c = await cluster(["a"], () => [bulkheads({ maxConcurrent: 2, maxQueued: 1 })]);
    c.script.set("flaky-a", { sleepMs: 30 });
    const results = await Promise.all(
      Array.from({ length: 6 }, () => settle(c?.caller.call(flaky.read, {}) as Promise<unknown>)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    for (const r of results.filter((r) => !r.ok)) {
      expect(r.ok ? undefined : r.error).toMatchObject({ code: "FLOTILLA_BULKHEAD_FULL", status: "UNAVAILABLE" });
    }
    expect(c.script.maxRunning).toBe(2);
  });

  it("keeps actions apart, with per-action limits", async () => {
    c = await cluster(["a"], () => [bulkheads({ maxConcurrent: 1, actions: { "flaky.write": { maxConcurrent: 3 } } })]);
    c.script.set("flaky-a", { sleepMs: 30 });
    const reads = [c.caller.call(flaky.read, {}), c.caller.call(flaky.read, {})].map(settle);
    const writes = Array.from({ length: 3 }, () => settle(c?.caller.call(flaky.write, {}) as Promise<unknown>));
    expect((await Promise.all(reads)).map((r) => r.ok)).toEqual([true, false]);
    expect((await Promise.all(writes)).every((r) => r.ok)).toBe(true);
  });

  it("drops a waiting call at its deadline, and runs an admitted one with the time left", async () => {
    const attempts = spy();
    c = await cluster(["a"], () => [bulkheads({ maxConcurrent: 1, maxQueued: 5 }), attempts]);
    c.script.set("flaky-a", { sleepMs: 100 }, "ok");
    const first = settle(c.caller.call(flaky.read, {}));
    const late = await settle(c.caller.call(flaky.read, {}, { timeoutMs: 20 }));
    expect(late).toMatchObject({ ok: false, error: { code: "DEADLINE_EXCEEDED" } });
    const queued = settle(c.caller.call(flaky.read, {}, { timeoutMs: 5_000 }));
    expect((await first).ok).toBe(true);
    expect((await queued).ok).toBe(true);
    expect(c.script.count("flaky-a")).toBe(2);
    expect(attempts.seen).toHaveLength(2);
    expect(attempts.seen[1]?.timeoutMs).toBeLessThan(5_000);
  });
});
