import { afterEach, describe, expect, it } from "vitest";
import { bulkheads, circuitBreakers, fallbacks, retries } from "../src/index.js";
import { type Cluster, cluster, flaky, loadBalancing } from "./cluster.js";

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

describe("the recommended order", () => {
  it("fallbacks → retries → bulkheads → loadBalancing → circuitBreakers", async () => {
    const breakers = circuitBreakers({ threshold: 2, halfOpenAfterMs: 60_000 });
    let fallbackAnswers = 0;
    c = await cluster(["a", "b", "c"], (registry) => [
      fallbacks({
        "flaky.read": () => {
          fallbackAnswers++;
          return { instance: "fallback" };
        },
      }),
      retries({ maxAttempts: 3, baseMs: 1 }),
      bulkheads({ maxConcurrent: 16, maxQueued: 16 }),
      loadBalancing({ registry, avoid: breakers.rejects }),
      breakers,
    ]);
    c.script.set("flaky-a", "unavailable");
    const answers = await Promise.all(Array.from({ length: 30 }, () => c?.caller.call(flaky.read, {})));
    expect(answers.every((a) => a?.instance === "flaky-b" || a?.instance === "flaky-c")).toBe(true);
    expect(breakers.state("flaky", "flaky-a")).toBe("open");
    expect(fallbackAnswers).toBe(0);

    c.script.set("flaky-b", "unavailable");
    c.script.set("flaky-c", "unavailable");
    for (let i = 0; i < 5; i++) expect(await c.caller.call(flaky.read, {})).toEqual({ instance: "fallback" });
    expect(["flaky-b", "flaky-c"].map((i) => breakers.state("flaky", i))).toEqual(["open", "open"]);
  });
});
