import type { ResolvedUnit, UnitScaling } from "@flotilla/app";
import { describe, expect, it } from "vitest";
import { Autoscaler, type AutoscalerOptions, type ScaleDecision, type UnitSignals } from "../../src/index.js";

const SECOND = 1_000;

function unit(scaling: UnitScaling = {}): ResolvedUnit {
  return {
    name: "browse",
    services: ["catalog"],
    gateway: false,
    instances: scaling.min ?? 1,
    scaling: { min: 1, max: 10, inFlightPerInstance: 8, lagPerInstance: 100, cpuPercent: 70, ...scaling },
    resources: { cpu: "250m", memory: "256Mi" },
  };
}

/** An autoscaler on a hand-moved clock, and the count it keeps as a supervisor would. */
function harness(scaling: UnitScaling = {}, options: AutoscalerOptions = {}, start = 1) {
  let now = 1_000_000;
  let current = start;
  const scaler = new Autoscaler(unit(scaling), { now: () => now, ...options });
  return {
    get current() {
      return current;
    },
    advance(ms: number) {
      now += ms;
    },
    /** One sync period: advance, recommend, apply. */
    tick(signals: Omit<UnitSignals, "readyInstances"> & { readyInstances?: number }, ms = 15 * SECOND) {
      now += ms;
      const decision = scaler.recommend(current, { readyInstances: current, ...signals });
      if (decision) current = decision.to;
      return decision;
    },
  };
}

const busy = (perInstance: number, instances: number) => ({ inFlight: perInstance * instances });

describe("Autoscaler: HPA's proposal per signal", () => {
  it("scales up at once to ceil(current × metric / target) and says why", () => {
    const h = harness();
    const d = h.tick({ inFlight: 40 }) as ScaleDecision;
    expect(d).toMatchObject({ unit: "browse", from: 1, to: 5, signal: "inFlight" });
    expect(d.reason).toBe("in-flight 40 over 1 instances > 8 each → 5");
    expect(d.at).toBe(1_000_000 + 15 * SECOND);
  });

  it("changes nothing within the 0.1 tolerance, and does just outside it", () => {
    const h = harness({}, {}, 2);
    expect(h.tick({ inFlight: 17.5 })).toBeUndefined(); // 8.75 each: ratio 1.09
    expect(h.tick({ inFlight: 14.5 })).toBeUndefined(); // 7.25 each: ratio 0.91
    expect(h.tick({ inFlight: 18 })?.to).toBe(3); // 9 each: ratio 1.125 → ceil(2.25)
  });

  it("honours a custom tolerance", () => {
    const h = harness({}, { tolerance: 0.5 }, 2);
    expect(h.tick({ inFlight: 22 })).toBeUndefined(); // ratio 1.375
    expect(h.tick({ inFlight: 26 })?.to).toBe(4); // ratio 1.625
  });

  it("reads lag as KEDA's AverageValue target: ceil(lag / lagPerInstance) over the current count", () => {
    const h = harness({}, {}, 2);
    const d = h.tick({ lag: 450 }) as ScaleDecision;
    expect(d).toMatchObject({ from: 2, to: 5, signal: "lag" });
    expect(d.reason).toBe("lag 450 over 2 instances > 100 each → 5");
  });

  it("reads CPU as a utilization target in percent of one core per instance", () => {
    const h = harness({ cpuPercent: 50 }, {}, 2);
    const d = h.tick({ cpuPercent: 150 }) as ScaleDecision;
    expect(d).toMatchObject({ from: 2, to: 6, signal: "cpu" });
    expect(d.reason).toBe("CPU 150% per instance > 50% of a core → 6");
  });

  it("takes the highest proposal across signals", () => {
    const h = harness({}, {}, 3);
    const d = h.tick({ inFlight: 24, lag: 700, cpuPercent: 10 }) as ScaleDecision;
    expect(d).toMatchObject({ to: 7, signal: "lag" });
  });
});

describe("Autoscaler: HPA's default timing", () => {
  it("adds at most 100% or 4 instances per 15 s, whichever is more", () => {
    const h = harness({ max: 50 });
    expect(h.tick({ inFlight: 400 })).toMatchObject({ from: 1, to: 5 }); // 1 + 4 beats 1 × 2
    expect(h.tick({ inFlight: 400 }, 5 * SECOND)).toBeUndefined(); // same 15 s period: 5 already added
    const d = h.tick(busy(80, 5), 10 * SECOND) as ScaleDecision; // a new period starts from 5
    expect(d).toMatchObject({ from: 5, to: 10, signal: "inFlight" });
    expect(d.reason).toBe("in-flight 400 over 5 instances > 8 each → 50; the scale-up policy allows 10 → 10");
    expect(h.tick(busy(40, 10))?.to).toBe(20); // 100% of 10 beats 4
  });

  it("caps at max and names it", () => {
    const h = harness({ max: 3 });
    const d = h.tick({ inFlight: 40 }) as ScaleDecision;
    expect(d).toMatchObject({ from: 1, to: 3, signal: "max" });
    expect(d.reason).toBe("in-flight 40 over 1 instances > 8 each → 5; max 3 → 3");
  });

  it("scales down only once the 300 s window holds no higher recommendation", () => {
    const h = harness({}, {}, 1);
    expect(h.tick({ inFlight: 32 })?.to).toBe(4);
    let decisions = 0;
    for (let t = 15; t < 300; t += 15) if (h.tick({ inFlight: 4 })) decisions++;
    expect(decisions).toBe(0);
    expect(h.current).toBe(4);
    const d = h.tick({ inFlight: 4 }) as ScaleDecision; // 300 s after the recommendation of 4
    expect(d).toMatchObject({ from: 4, to: 1, signal: "inFlight" });
    expect(d.reason).toBe("in-flight 4 over 4 instances < 8 each → 1");
  });

  it("steps down through the highest recommendation left in the window", () => {
    const h = harness({}, {}, 2);
    h.tick({ inFlight: 48 }); // → 6 at t0
    h.tick(busy(4, 6), 100 * SECOND); // proposes 3 at t0 + 100 s
    h.tick(busy(1, 6), 100 * SECOND); // proposes 1 at t0 + 200 s
    const d = h.tick(busy(1, 6), 101 * SECOND) as ScaleDecision; // t0 + 301 s: 3 is the highest left
    expect(d).toMatchObject({ from: 6, to: 3, signal: "inFlight" });
    expect(d.reason).toBe("in-flight 6 over 6 instances < 8 each → 1; highest recommendation in the last 300 s: 3 → 3");
  });

  it("does not scale down within the window of its first reading", () => {
    const h = harness({}, {}, 4);
    for (let t = 0; t < 300; t += 15) expect(h.tick({ inFlight: 0 })).toBeUndefined(); // first at +15 s
    expect(h.tick({ inFlight: 0 })).toMatchObject({ from: 4, to: 1, signal: "min" });
  });

  it("damps flapping: alternating load scales up once and holds", () => {
    const h = harness({}, {}, 2);
    const seen: number[] = [];
    for (let i = 0; i < 18; i++) {
      h.tick(i % 2 === 0 ? busy(24, h.current) : busy(1, h.current));
      seen.push(h.current);
    }
    // Up at once (bounded by the policy, then by max 10); the low readings in between never bring it down.
    expect(seen).toEqual([6, 6, ...Array(16).fill(10)]);
  });

  it("honours a shorter window and a scale-down rate policy", () => {
    const downscale = {
      policies: [{ type: "pods" as const, value: 1, periodMs: 15 * SECOND }],
      stabilizationWindowMs: 0,
    };
    const h = harness({}, { downscale, stabilizationWindowMs: 30 * SECOND }, 4);
    expect(h.tick({ inFlight: 0 })).toBeUndefined(); // the first reading: 4 starts the 30 s window
    expect(h.tick({ inFlight: 0 }, 29 * SECOND)).toBeUndefined();
    const d = h.tick({ inFlight: 0 }, 1 * SECOND) as ScaleDecision; // 30 s on, the window holds only 0s
    expect(d).toMatchObject({ from: 4, to: 3, signal: "inFlight" });
    expect(d.reason).toContain("the scale-down policy allows 3");
    expect(h.tick({ inFlight: 0 }, 5 * SECOND)).toBeUndefined(); // one removed in this 15 s period
    expect(h.tick({ inFlight: 0 }, 10 * SECOND)?.to).toBe(2);
  });

  it("stops scaling in a direction whose policy is disabled", () => {
    const upscale = { policies: [], select: "disabled" as const, stabilizationWindowMs: 0 };
    const h = harness({}, { upscale });
    expect(h.tick({ inFlight: 80 })).toBeUndefined();
  });
});

describe("Autoscaler: bounds, missing signals, starting instances", () => {
  it("brings a count below min up, and one above max down, at once", () => {
    const low = harness({ min: 2 }, {}, 0);
    expect(low.tick({})).toMatchObject({ from: 0, to: 2, signal: "min", reason: "0 instances below min 2 → 2" });
    const high = harness({ max: 3 }, {}, 5);
    expect(high.tick({ inFlight: 500 })).toMatchObject({ to: 3, signal: "max" });
  });

  it("never scales below min", () => {
    const h = harness({ min: 2 }, { stabilizationWindowMs: 0 }, 5);
    expect(h.tick({ inFlight: 0, lag: 0 })).toMatchObject({ from: 5, to: 2, signal: "min" });
  });

  it("changes nothing when no signal was read", () => {
    const h = harness({}, {}, 3);
    expect(h.tick({})).toBeUndefined();
    expect(h.tick({ failed: ["inFlight", "lag"] })).toBeUndefined();
  });

  it("scales up but never down while a signal failed", () => {
    const h = harness({}, { stabilizationWindowMs: 0 }, 3);
    expect(h.tick({ inFlight: 0, failed: ["lag"] })).toBeUndefined();
    expect(h.tick({ inFlight: 0 })?.to).toBe(1);
    expect(h.tick({ inFlight: 40, failed: ["lag"] })?.to).toBe(5);
  });

  it("ignores an in-flight reading with no ready instance, and still reads lag", () => {
    const h = harness({}, {}, 2);
    expect(h.tick({ inFlight: 0, readyInstances: 0 })).toBeUndefined();
    expect(h.tick({ inFlight: 0, lag: 600, readyInstances: 0 })).toMatchObject({ to: 6, signal: "lag" });
  });

  it("counts starting instances as idle before scaling up further", () => {
    const h = harness({}, {}, 4);
    // One ready instance at 12 in flight: 1.5× the target, but 3 more are starting and will share the load.
    expect(h.tick({ inFlight: 12, readyInstances: 1 })).toBeUndefined();
    // Two ready at 40 each: even with the two starting ones idle, 80 over 4 is 2.5× the target.
    expect(h.tick({ inFlight: 80, readyInstances: 2 })).toMatchObject({ from: 4, to: 8 });
  });

  it("counts starting instances as at the target before scaling down", () => {
    const h = harness({}, { stabilizationWindowMs: 0 }, 4);
    // Two ready at 1 each: alone they would ask for 1 instance; the two starting ones count as 8 each.
    expect(h.tick({ inFlight: 2, readyInstances: 2 })).toMatchObject({ from: 4, to: 3 });
    expect(h.tick({ inFlight: 3, readyInstances: 3 })).toMatchObject({ from: 3, to: 1 });
  });

  it("with min 0, wakes on lag and sleeps after KEDA's cooldown without any", () => {
    const h = harness({ min: 0 }, { cooldownMs: 60 * SECOND }, 0);
    expect(h.tick({ inFlight: 0, lag: 0, readyInstances: 0 })).toBeUndefined();
    expect(h.tick({ lag: 5, readyInstances: 0 })).toMatchObject({
      from: 0,
      to: 1,
      signal: "lag",
      reason: "lag 5 > 0 activates the unit → 1",
    });
    for (let t = 15; t < 60; t += 15) expect(h.tick({ inFlight: 0, lag: 0 })).toBeUndefined();
    expect(h.tick({ inFlight: 0, lag: 0 })).toMatchObject({
      from: 1,
      to: 0,
      signal: "min",
      reason: "no lag nor in-flight calls for 60 s → 0",
    });
  });
});
