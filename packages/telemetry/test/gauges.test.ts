import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { collectedGauge } from "../src/index.js";

describe("collectedGauge()", () => {
  it("reads at scrape time, and a failed read empties only its own gauge and is counted", async () => {
    const registry = new Registry();
    let backlog = 3;
    let brokerUp = true;
    collectedGauge(registry, {
      name: "test_backlog_events",
      help: "A backlog.",
      labelNames: ["service"] as const,
      read: async () => [{ labels: { service: "orders" }, value: backlog }],
    });
    collectedGauge(registry, {
      name: "test_lag_events",
      help: "A lag that needs the broker.",
      labelNames: ["group"] as const,
      read: async () => {
        if (!brokerUp) throw new Error("broker unreachable");
        return [{ labels: { group: "g" }, value: 1 }];
      },
    });
    expect(await registry.metrics()).toContain('test_lag_events{group="g"} 1');
    backlog = 5;
    brokerUp = false;
    const text = await registry.metrics();
    expect(text).toContain('test_backlog_events{service="orders"} 5');
    expect(text).not.toContain('test_lag_events{group="g"}');
    // Scrapes collect concurrently, so a failure shows in the count from the next scrape on.
    const next = await registry.metrics();
    expect(next).toContain('flotilla_collect_failures_total{metric="test_lag_events"} 1');
    expect(next).toContain('flotilla_collect_failures_total{metric="test_backlog_events"} 0');
  });
});
