import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { BoundCounter, BoundHistogram } from "../src/bound-metrics.js";

const buckets = [0.001, 0.01, 0.1, 1];
const observations: [string, string, number][] = [
  ["catalog", "OK", 0.0004],
  ["catalog", "OK", 0.001],
  ["catalog", "OK", 0.05],
  ["catalog", "NOT_FOUND", 2.5],
  ["orders", "OK", 0.3],
];

/** Records the same observations in prom-client's own metrics and in the bound ones. */
function both(openMetrics = false) {
  const theirs = new Registry();
  const ours = new Registry();
  if (openMetrics) {
    // The typings bind a registry to the Prometheus format; the OpenMetrics one is set at run time.
    for (const r of [theirs, ours])
      (r as unknown as Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>).setContentType(
        Registry.OPENMETRICS_CONTENT_TYPE,
      );
  }
  const config = { name: "h_seconds", help: "h", labelNames: ["service", "status"] as const, buckets };
  const ph = new Histogram({ ...config, registers: [theirs] });
  const bh = new BoundHistogram({ ...config, registers: [ours] });
  const counter = { name: "c_total", help: "c", labelNames: ["service", "status"] as const };
  const pc = new Counter({ ...counter, registers: [theirs] });
  const bc = new BoundCounter({ ...counter, registers: [ours] });
  for (const [service, status, v] of observations) {
    ph.labels(service, status).observe(v);
    bh.labels(service, status).observe(v);
    pc.labels(service, status).inc();
    bc.labels(service, status).inc();
  }
  return { theirs, ours, bh };
}

/** Exposition lines, label order normalized (prom-client puts `le` first or last depending on the path). */
function normalized(text: string): string[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => line.replace(/\{([^}]*)\}/, (_, body: string) => `{${body.split(",").sort().join(",")}}`))
    .sort();
}

describe("bound metrics", () => {
  it("render exactly what prom-client's own histogram and counter render", async () => {
    const { theirs, ours } = both();
    expect(normalized(await ours.metrics())).toEqual(normalized(await theirs.metrics()));
  });

  it("render the same in OpenMetrics format", async () => {
    const { theirs, ours } = both(true);
    expect(normalized(await ours.metrics())).toEqual(normalized(await theirs.metrics()));
  });

  it("take the registry's default labels and JSON form", async () => {
    const { theirs, ours } = both();
    for (const r of [theirs, ours]) r.setDefaultLabels({ instance: "orders-1" });
    expect(normalized(await ours.metrics())).toEqual(normalized(await theirs.metrics()));
    const json = await ours.getMetricsAsJSON();
    expect(json.map((m) => [m.name, m.type])).toEqual([
      ["h_seconds", "histogram"],
      ["c_total", "counter"],
    ]);
  });

  it("reset in place: series already bound keep recording", async () => {
    const { ours, bh } = both();
    const series = bh.labels("catalog", "OK");
    ours.resetMetrics();
    series.observe(0.002);
    const text = await ours.metrics();
    expect(text).toContain('h_seconds_count{service="catalog",status="OK"} 1');
    expect(text).toContain('h_seconds_count{service="orders",status="OK"} 0');
    expect(text).toContain('c_total{service="catalog",status="OK"} 0');
  });

  it("reject a wrong number of label values and a duplicate name", () => {
    const registry = new Registry();
    const h = new BoundHistogram({ name: "x", help: "x", labelNames: ["a", "b"], buckets, registers: [registry] });
    expect(() => h.labels("only-one")).toThrow(/takes 2 label values/);
    expect(() => new Counter({ name: "x", help: "x", registers: [registry] })).toThrow(/already been registered/);
  });
});
