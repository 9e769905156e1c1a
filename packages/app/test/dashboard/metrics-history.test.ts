/** The Metrics view's history: the ring, deltas between readings summed over processes, restarts, gaps and the series bound. */
import { describe, expect, it } from "vitest";
import { MetricsHistory, Ring } from "../../src/dashboard/metrics-history.js";
import type { RedTotals, SourceReading } from "../../src/dashboard/metrics-readings.js";

function red(count: number, errors = 0, buckets: [number, number][] = [[Number.POSITIVE_INFINITY, count]]): RedTotals {
  return { count, errors, clientErrors: 0, buckets: new Map(buckets) };
}

function reading(series: Record<string, RedTotals>, outbox: Record<string, number> = {}): SourceReading {
  return { red: new Map(Object.entries(series)), outbox: new Map(Object.entries(outbox)) };
}

const none = new Map<string, number>();

describe("Ring", () => {
  it("keeps the newest `capacity` items, oldest first", () => {
    const ring = new Ring<number>(3);
    expect(ring.toArray()).toEqual([]);
    for (const n of [1, 2]) ring.push(n);
    expect(ring.toArray()).toEqual([1, 2]);
    for (const n of [3, 4, 5]) ring.push(n);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.size).toBe(3);
    expect(() => new Ring(0)).toThrow(/capacity/);
  });
});

describe("MetricsHistory", () => {
  it("turns two readings into a point per series: requests, rate, error ratio and quantiles of the interval", () => {
    const history = new MetricsHistory({ sampleMs: 5_000 });
    const buckets = (a: number, b: number): [number, number][] => [
      [0.1, a],
      [0.2, b],
      [Number.POSITIVE_INFINITY, b],
    ];
    history.record(0, new Map([["a", reading({ "route GET /x": red(10, 1, buckets(10, 10)) })]]), none);
    let route = history.snapshot().routes[0];
    // The first reading is the baseline: totals, no point.
    expect(route).toMatchObject({ key: "GET /x", total: 10, errors: 1, points: [] });
    history.record(5_000, new Map([["a", reading({ "route GET /x": red(30, 6, buckets(10, 30)) })]]), none);
    route = history.snapshot().routes[0];
    expect(route?.total).toBe(30);
    const [at, requests, rate, errorRatio, clientErrorRatio, p50, p95] = route?.points[0] ?? [];
    expect([at, requests, rate, errorRatio, clientErrorRatio]).toEqual([5_000, 20, 4, 0.25, 0]);
    // The interval's 20 requests all fell in (0.1, 0.2]: the 10th and the 19th interpolated in it.
    expect(p50).toBeCloseTo(0.15, 10);
    expect(p95).toBeCloseTo(0.195, 10);
  });

  it("sums processes, takes a new process as a baseline, and counts a restarted one from zero", () => {
    const history = new MetricsHistory({ sampleMs: 1_000 });
    const id = "action catalog.get";
    history.record(0, new Map([["a", reading({ [id]: red(100) })]]), none);
    // b appears with 50 already counted: not part of this interval.
    history.record(
      1_000,
      new Map([
        ["a", reading({ [id]: red(110) })],
        ["b", reading({ [id]: red(50) })],
      ]),
      none,
    );
    // a restarted (3 since), b grew by 5.
    history.record(
      2_000,
      new Map([
        ["a", reading({ [id]: red(3) })],
        ["b", reading({ [id]: red(55) })],
      ]),
      none,
    );
    const action = history.snapshot().actions[0];
    expect(action?.points.map((p) => p[1])).toEqual([10, 8]);
    expect(action?.total).toBe(58);
  });

  it("starts again from a baseline after a gap nobody sampled, and keeps only the history's span", () => {
    const history = new MetricsHistory({ sampleMs: 1_000, historyMs: 3_000 });
    const at = (t: number, n: number) =>
      history.record(t, new Map([["a", reading({ "handler s t": red(n) }, { orders: n })]]), new Map([["orders", 2]]));
    at(0, 0);
    at(1_000, 1);
    at(2_000, 2);
    at(60_000, 10);
    let snap = history.snapshot();
    // The gap's reading adds no RED point; the earlier points are older than the history's span.
    expect(snap.handlers[0]?.points).toEqual([]);
    expect(snap.outbox[0]?.points).toEqual([[60_000, 10]]);
    expect(snap.instances[0]).toMatchObject({ key: "orders", value: 2 });
    at(61_000, 13);
    snap = history.snapshot();
    expect(snap.handlers[0]?.points.map((p) => p[1])).toEqual([3]);
    expect(history.snapshot(1).outbox[0]?.points).toEqual([[61_000, 13]]);
  });

  it("keeps at most maxSeries series and says how many it dropped", () => {
    const history = new MetricsHistory({ sampleMs: 1_000, maxSeries: 3 });
    const series = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`route GET /r${i}`, red(i)]));
    history.record(0, new Map([["a", reading(series)]]), new Map([["svc", 1]]));
    const snap = history.snapshot();
    expect(snap.routes.length + snap.instances.length).toBe(3);
    expect(snap.droppedSeries).toBe(3);
    expect(snap.maxSeries).toBe(3);
  });
});
