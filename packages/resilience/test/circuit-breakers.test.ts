import { sleep, waitFor } from "@flotilla/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type BreakerStateChange, circuitBreakers, isCircuitBreakers, retries } from "../src/index.js";
import { type Cluster, cluster, flaky, loadBalancing, settle } from "./cluster.js";

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

const transitions = (changes: BreakerStateChange[], instance: string) =>
  changes.filter((ch) => ch.instance === instance).map((ch) => ch.to);

describe("circuitBreakers", () => {
  it("opens after consecutive failures of one instance, and the balancer moves traffic to the healthy one", async () => {
    const changes: BreakerStateChange[] = [];
    const breakers = circuitBreakers({
      threshold: 3,
      halfOpenAfterMs: 60_000,
      onStateChange: (ch) => changes.push(ch),
    });
    c = await cluster(["a", "b"], (registry) => [loadBalancing({ registry, avoid: breakers.rejects }), breakers]);
    c.script.set("flaky-a", "unavailable");
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await settle(c.caller.call(flaky.read, {})));
    expect(c.script.count("flaky-a")).toBe(3);
    expect(results.filter((r) => !r.ok)).toHaveLength(3);
    expect(results.slice(-10).every((r) => r.ok && r.value.instance === "flaky-b")).toBe(true);
    expect(breakers.state("flaky", "flaky-a")).toBe("open");
    expect(breakers.state("flaky", "flaky-b")).toBe("closed");
    expect(changes).toEqual([{ service: "flaky", instance: "flaky-a", from: "closed", to: "open" }]);
    expect(breakers.snapshot().sort((x, y) => String(x.instance).localeCompare(String(y.instance)))).toEqual([
      { service: "flaky", instance: "flaky-a", state: "open" },
      { service: "flaky", instance: "flaky-b", state: "closed" },
    ]);
    expect(isCircuitBreakers(breakers)).toBe(true);
    expect(isCircuitBreakers({ name: "circuit-breakers" })).toBe(false);
  });

  it("fails fast with FLOTILLA_CIRCUIT_OPEN (retryable) without reaching the instance", async () => {
    const breakers = circuitBreakers({ threshold: 3, halfOpenAfterMs: 60_000 });
    c = await cluster(["a"], () => [breakers]);
    c.script.set("flaky-a", "internal");
    for (let i = 0; i < 3; i++) await settle(c.caller.call(flaky.read, {}, { instance: "flaky-a" }));
    const result = await settle(c.caller.call(flaky.read, {}, { instance: "flaky-a" }));
    expect(result.ok ? undefined : result.error).toMatchObject({
      code: "FLOTILLA_CIRCUIT_OPEN",
      status: "UNAVAILABLE",
      retryable: true,
      details: { service: "flaky", instance: "flaky-a" },
    });
    expect(c.script.count("flaky-a")).toBe(3);
  });

  it("is never opened by domain errors", async () => {
    const breakers = circuitBreakers({ threshold: 2 });
    c = await cluster(["a"], () => [breakers]);
    c.script.set("flaky-a", "not-found");
    for (let i = 0; i < 10; i++) {
      expect(await settle(c.caller.call(flaky.read, {}, { instance: "flaky-a" }))).toMatchObject({
        error: { code: "NO_SUCH_THING" },
      });
    }
    expect(breakers.state("flaky", "flaky-a")).toBe("closed");
  });

  it("lets one probe through after the delay: success closes it, failure reopens it", async () => {
    const changes: BreakerStateChange[] = [];
    const breakers = circuitBreakers({ threshold: 2, halfOpenAfterMs: 100, onStateChange: (ch) => changes.push(ch) });
    c = await cluster(["a"], () => [breakers]);
    const call = () => settle(c?.caller.call(flaky.read, {}, { instance: "flaky-a" }) as Promise<unknown>);
    c.script.set("flaky-a", "unavailable");
    await call();
    await call();
    expect(breakers.rejects("flaky", "flaky-a")).toBe(true);
    await sleep(120);
    expect(breakers.rejects("flaky", "flaky-a")).toBe(false);
    expect(await call()).toMatchObject({ error: { code: "UNAVAILABLE" } });
    expect(await call()).toMatchObject({ error: { code: "FLOTILLA_CIRCUIT_OPEN" } });
    expect(c.script.count("flaky-a")).toBe(3);
    c.script.set("flaky-a", "ok");
    await sleep(120);
    expect(await call()).toMatchObject({ ok: true });
    expect(transitions(changes, "flaky-a")).toEqual(["open", "half-open", "open", "half-open", "closed"]);
  });

  it("returns traffic to a recovered instance behind the balancer", async () => {
    const breakers = circuitBreakers({ threshold: 2, halfOpenAfterMs: 30 });
    c = await cluster(["a", "b"], (registry) => [loadBalancing({ registry, avoid: breakers.rejects }), breakers]);
    c.script.set("flaky-a", "unavailable");
    for (let i = 0; i < 10; i++) await settle(c.caller.call(flaky.read, {}));
    expect(breakers.state("flaky", "flaky-a")).toBe("open");
    c.script.set("flaky-a", "ok");
    await waitFor(async () => {
      await c?.caller.call(flaky.read, {});
      return breakers.state("flaky", "flaky-a") === "closed";
    });
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await c.caller.call(flaky.read, {})).instance);
    expect(seen).toEqual(new Set(["flaky-a", "flaky-b"]));
  });

  it("without the balancer's avoid, a retry passes an open breaker by choosing another instance", async () => {
    const breakers = circuitBreakers({ threshold: 2, halfOpenAfterMs: 60_000 });
    c = await cluster(["a", "b"], (registry) => [retries({ baseMs: 1 }), loadBalancing({ registry }), breakers]);
    c.script.set("flaky-a", "unavailable");
    for (let i = 0; i < 20; i++) expect(await c.caller.call(flaky.read, {})).toEqual({ instance: "flaky-b" });
    expect(c.script.count("flaky-a")).toBe(2);
  });

  it("keeps one breaker per service for calls that name no instance, and can open on a failure ratio", async () => {
    const breakers = circuitBreakers({ ratio: { threshold: 0.5, windowMs: 10_000, minimumRps: 0.1 } });
    c = await cluster(["a"], () => [breakers]);
    c.script.set("flaky-a", "unavailable");
    for (let i = 0; i < 5; i++) await settle(c.caller.call(flaky.read, {}));
    expect(breakers.state("flaky")).toBe("open");
    expect(breakers.state("flaky", "flaky-a")).toBe("closed");
  });
});
