/** The Metrics view's reading of Prometheus text: the strict parser, on hand-written lines and on prom-client's own output. */
import { FlotillaError } from "@flotilla/core";
import { httpMetrics, metrics } from "@flotilla/telemetry";
import { describe, expect, it } from "vitest";
import { parsePrometheusText } from "../../src/dashboard/metrics-prometheus.js";
import { quantile, readingOf } from "../../src/dashboard/metrics-readings.js";

describe("parsePrometheusText", () => {
  it("reads names, labels with escapes, special values and timestamps, and skips comments", () => {
    const text = [
      "# HELP x_total Things.",
      "# TYPE x_total counter",
      'x_total{a="1",b="say \\"hi\\"\\nnext\\\\"} 3 1700000000000',
      "up 1",
      'h_bucket{le="+Inf"} +Inf',
      "g -Inf",
      "n NaN",
      'spaced{ a = "x" , } 2.5e-3',
      "",
    ].join("\n");
    const samples = parsePrometheusText(text);
    expect(samples.map((s) => s.name)).toEqual(["x_total", "up", "h_bucket", "g", "n", "spaced"]);
    expect(samples[0]).toEqual({ name: "x_total", labels: { a: "1", b: 'say "hi"\nnext\\' }, value: 3 });
    expect(samples[1]?.labels).toEqual({});
    expect(samples[2]?.value).toBe(Number.POSITIVE_INFINITY);
    expect(samples[3]?.value).toBe(Number.NEGATIVE_INFINITY);
    expect(samples[4]?.value).toBeNaN();
    expect(samples[5]).toEqual({ name: "spaced", labels: { a: "x" }, value: 0.0025 });
  });

  it.each([
    ["<html>oops</html>", "no metric name"],
    ['x{a="1"', "labels not closed|closing quote"],
    ['x{a="1} 2', "closing quote"],
    ["x{a=1} 2", 'without ="value"'],
    ['x{a="1",a="2"} 2', "twice"],
    ["x 0x10", "not a number"],
    ["x", "no space"],
    ["x 1 2 3", "more than"],
    ["x 1 soon", "timestamp"],
    ['x{a="\\t"} 1', "unknown escape"],
  ])("refuses %j", (line, why) => {
    let caught: unknown;
    try {
      parsePrometheusText(`ok 1\n${line}\n`);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FlotillaError);
    expect((caught as FlotillaError).code).toBe("INVALID_ARGUMENT");
    expect((caught as Error).message).toMatch(/line 2/);
    expect((caught as Error).message).toMatch(new RegExp(why));
  });

  it("reads prom-client's rendering of the gateway's request metrics into per-route totals and buckets", async () => {
    const telemetry = metrics();
    const http = httpMetrics(telemetry.registry);
    const answer = (route: string, status: number, seconds: number) => {
      http.started();
      http.finished("GET", route, status, seconds);
    };
    for (let i = 0; i < 6; i++) answer("/api/v1/products", 200, 0.004);
    answer("/api/v1/products", 404, 0.02);
    answer("/api/v1/products", 503, 0.3);
    answer("/api/v1/orders/:id", 200, 0.01);
    const reading = readingOf(parsePrometheusText(await http.render()));
    const products = reading.red.get("route GET /api/v1/products");
    expect(products).toMatchObject({ count: 8, errors: 1, clientErrors: 1 });
    expect(products?.buckets.get(Number.POSITIVE_INFINITY)).toBe(8);
    expect(products?.buckets.get(0.005)).toBe(6);
    expect(reading.red.get("route GET /api/v1/orders/:id")).toMatchObject({ count: 1, errors: 0, clientErrors: 0 });
    // Six of eight at or below 5 ms: the median is inside the first buckets, the 95th beyond 25 ms.
    expect(quantile(0.5, products?.buckets ?? new Map())).toBeLessThanOrEqual(0.005);
    expect(quantile(0.95, products?.buckets ?? new Map())).toBeGreaterThan(0.025);
  });
});

describe("quantile", () => {
  it("interpolates inside the bucket holding the rank, as histogram_quantile does", () => {
    const buckets = new Map([
      [0.1, 10],
      [0.2, 30],
      [Number.POSITIVE_INFINITY, 40],
    ]);
    // Rank 20 of 40 is half-way through the (0.1, 0.2] bucket's 20.
    expect(quantile(0.5, buckets)).toBeCloseTo(0.15, 10);
    // Rank 5: half-way through the first bucket, from 0.
    expect(quantile(0.125, buckets)).toBeCloseTo(0.05, 10);
    // Rank 38 lies in +Inf: the highest finite bound.
    expect(quantile(0.95, buckets)).toBe(0.2);
    expect(quantile(0.5, new Map([[Number.POSITIVE_INFINITY, 0]]))).toBeNull();
  });
});
