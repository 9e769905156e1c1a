/** Architecture fitness findings, from hand-made spans and instance starts: each finding, and its absence. */
import { MemoryRegistry } from "@flotilla/core";
import { describe, expect, it } from "vitest";
import { DEPLOY_WINDOW_MS, deployedTogether, StartHistory } from "../src/dashboard/fitness-deploys.js";
import { chattyPairs, sharedDatabases, syncChains } from "../src/dashboard/fitness-findings.js";
import { HandTrace } from "./support/hand-made-spans.js";

const spansOf = (traces: HandTrace[]) => traces.flatMap((t) => t.spans);

describe("synchronous chains", () => {
  it("finds a chain of more than two hops, with the traces that run it", () => {
    const traces = [1, 2].map(() => {
      const t = new HandTrace();
      const a = t.call(t.request(), "a", "run");
      const b = t.call(a, "b", "run");
      t.call(b, "c", "run");
      return t;
    });
    expect(syncChains(spansOf(traces))).toEqual([
      {
        kind: "sync-chain",
        services: ["gateway", "a", "b", "c"],
        text: "A synchronous chain of 3 hops (gateway → a → b → c): each caller waits for the next, so their latencies add up and one failure fails them all.",
        count: 2,
        traces: traces.map((t) => t.traceId),
      },
    ]);
  });

  it("finds none for two hops, nor across an event or a saga step (the caller does not wait for them)", () => {
    const t = new HandTrace();
    const a = t.call(t.request(), "a", "run");
    const b = t.call(a, "b", "run");
    const [handler] = t.publish(b, "b.Done", [{ service: "c", group: "c.onDone" }]);
    if (handler === undefined) throw new Error("no handler span");
    t.call(handler, "d", "run");
    expect(syncChains(t.spans)).toEqual([]);
    // With a lower bar, the same trace's two-hop chain is one.
    expect(syncChains(t.spans, { maxHops: 1 }).map((f) => f.services)).toEqual([["gateway", "a", "b"]]);
  });
});

describe("chatty pairs", () => {
  it("finds a pair with five or more calls in one request, and counts them", () => {
    const t = new HandTrace();
    const orders = t.call(t.request(), "orders", "createOrder");
    for (let i = 0; i < 6; i++) t.call(orders, "catalog", "getProduct");
    t.call(orders, "payments", "charge");
    expect(chattyPairs(t.spans)).toEqual([
      {
        kind: "chatty-pair",
        services: ["orders", "catalog"],
        text: "orders calls catalog up to 6 times in one request (1 request with 5 or more calls): one batched call would do.",
        count: 1,
        traces: [t.traceId],
      },
    ]);
  });

  it("finds none below the threshold, even over many requests", () => {
    const traces = Array.from({ length: 5 }, () => {
      const t = new HandTrace();
      const orders = t.call(t.request(), "orders", "createOrder");
      for (let i = 0; i < 4; i++) t.call(orders, "catalog", "getProduct");
      return t;
    });
    expect(chattyPairs(spansOf(traces))).toEqual([]);
  });
});

describe("shared databases", () => {
  it("finds a service using another's database, with a trace of each access", () => {
    const one = new HandTrace();
    one.transaction(one.call(one.request(), "orders", "createOrder"), "orders");
    const two = new HandTrace();
    two.transaction(two.call(two.request(), "reports", "daily"), "orders");
    expect(sharedDatabases(spansOf([one, two]))).toEqual([
      {
        kind: "shared-database",
        services: ["orders", "reports"],
        text: "reports uses the orders database: each service should own its data and others ask it.",
        count: 2,
        traces: [one.traceId, two.traceId],
      },
    ]);
  });

  it("finds none when each service keeps to its own database", () => {
    const t = new HandTrace();
    const orders = t.call(t.request(), "orders", "createOrder");
    t.transaction(orders, "orders");
    t.transaction(t.call(orders, "catalog", "getProducts"), "catalog");
    expect(sharedDatabases(t.spans)).toEqual([]);
  });
});

describe("services deployed together", () => {
  const at = (minutes: number, seconds = 0) => Date.UTC(2026, 0, 1, 12, minutes, seconds);

  it("finds two services started within the window of each other on two occasions", () => {
    const findings = deployedTogether([
      { service: "orders", instance: "o1", startedAtMs: at(0) },
      { service: "payments", instance: "p1", startedAtMs: at(0, 20) },
      { service: "catalog", instance: "c1", startedAtMs: at(10) },
      { service: "orders", instance: "o2", startedAtMs: at(30) },
      { service: "payments", instance: "p2", startedAtMs: at(30, 45) },
    ]);
    expect(findings).toEqual([
      {
        kind: "deploy-together",
        services: ["orders", "payments"],
        text: `orders and payments started within ${DEPLOY_WINDOW_MS / 1000} s of each other 2 times: they may not be deployable alone.`,
        count: 2,
        traces: [],
        occasions: [new Date(at(30)).toISOString(), new Date(at(0)).toISOString()],
      },
    ]);
  });

  it("finds none for services started together once, or apart each time", () => {
    expect(
      deployedTogether([
        { service: "orders", instance: "o1", startedAtMs: at(0) },
        { service: "payments", instance: "p1", startedAtMs: at(0, 5) },
        { service: "orders", instance: "o2", startedAtMs: at(20) },
        { service: "payments", instance: "p2", startedAtMs: at(40) },
      ]),
    ).toEqual([]);
  });

  it("remembers the instances a registry shows, also those gone since", async () => {
    const registry = new MemoryRegistry();
    const info = (service: string, instance: string, startedAt: string) => ({
      service,
      instance,
      version: "1.0.0",
      host: "h",
      pid: 1,
      actions: [],
      events: [],
      startedAt,
      ready: true,
      load: { inFlight: 0 },
    });
    const first = await registry.register(info("orders", "o1", new Date(at(0)).toISOString()));
    const history = new StartHistory(registry, () => ["orders", "payments"]);
    await first.deregister();
    await registry.register(info("payments", "p1", new Date(at(0, 10)).toISOString()));
    expect(
      history
        .list()
        .map((s) => s.instance)
        .sort(),
    ).toEqual(["o1", "p1"]);
    history.stop();
    await registry.close();
  });
});
