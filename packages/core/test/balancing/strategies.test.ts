import { describe, expect, it } from "vitest";
import { KeyAffinityStrategy } from "../../src/balancing/key-affinity-strategy.js";
import { LatencyAwareStrategy } from "../../src/balancing/latency-aware-strategy.js";
import { LeastInFlightStrategy } from "../../src/balancing/least-in-flight-strategy.js";
import { RandomStrategy } from "../../src/balancing/random-strategy.js";
import { resolveStrategy } from "../../src/balancing/resolve-strategy.js";
import { RoundRobinStrategy } from "../../src/balancing/round-robin-strategy.js";
import type { Strategy } from "../../src/balancing/strategy.js";
import type { InstanceInfo } from "../../src/registry/registry.js";

const inst = (id: string, inFlight = 0): InstanceInfo => ({
  service: "svc",
  instance: id,
  version: "1.0.0",
  host: "h",
  pid: 1,
  actions: ["svc.get"],
  events: [],
  startedAt: "2026-01-01T00:00:00.000Z",
  ready: true,
  load: { inFlight },
});
const fleet = (n: number) => Array.from({ length: n }, (_, i) => inst(`i${i}`));

/** mulberry32: a seeded generator, so distribution checks are deterministic. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tally(strategy: Strategy, candidates: readonly InstanceInfo[], picks: number, key?: string) {
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const picked = strategy.pick(candidates, { key }) as InstanceInfo;
    counts.set(picked.instance, (counts.get(picked.instance) ?? 0) + 1);
  }
  return counts;
}

describe("round-robin", () => {
  it("takes each instance in turn", () => {
    const s = new RoundRobinStrategy();
    const c = fleet(3);
    expect([0, 1, 2, 3].map(() => s.pick(c)?.instance)).toEqual(["i0", "i1", "i2", "i0"]);
    expect([...tally(s, c, 299).values()].sort()).toEqual([100, 100, 99].sort());
    expect(s.pick([])).toBeUndefined();
  });
});

describe("random", () => {
  it("spreads picks evenly", () => {
    const counts = tally(new RandomStrategy(seeded(1)), fleet(3), 30_000);
    for (const n of counts.values()) expect(Math.abs(n - 10_000)).toBeLessThan(500);
    expect(new RandomStrategy().pick([])).toBeUndefined();
  });
});

describe("least-in-flight", () => {
  it("sends concurrent calls to the instance with the fewest open, evenly", () => {
    const s = new LeastInFlightStrategy(seeded(2));
    const c = fleet(3);
    for (let i = 0; i < 30; i++) s.onStart(s.pick(c) as InstanceInfo);
    expect(c.map((i) => s.inFlight(i.instance))).toEqual([10, 10, 10]);
    const i1 = c[1] as InstanceInfo;
    for (let i = 0; i < 4; i++) s.onEnd(i1);
    for (let i = 0; i < 4; i++) {
      const picked = s.pick(c) as InstanceInfo;
      expect(picked.instance).toBe("i1");
      s.onStart(picked);
    }
  });

  it("breaks ties by reported load, then at random", () => {
    const s = new LeastInFlightStrategy(seeded(3));
    const counts = tally(s, [inst("busy", 5), inst("a"), inst("b")], 10_000);
    expect(counts.get("busy")).toBeUndefined();
    expect(Math.abs((counts.get("a") ?? 0) - 5_000)).toBeLessThan(400);
  });
});

describe("latency-aware", () => {
  const feed = (s: LatencyAwareStrategy, i: InstanceInfo, ms: number, times = 10, ok = true) => {
    for (let n = 0; n < times; n++) {
      s.onStart(i);
      s.onEnd(i, ms, ok);
    }
  };

  it("prefers the faster instance", () => {
    const s = new LatencyAwareStrategy({ random: seeded(4), now: () => 0 });
    const [fast, slow1, slow2] = [inst("fast"), inst("slow1"), inst("slow2")];
    feed(s, fast, 5);
    feed(s, slow1, 100);
    feed(s, slow2, 100);
    const counts = tally(s, [fast, slow1, slow2], 3_000);
    // Two choices: the fast one wins whenever it is drawn (2 pairs of 3), the slow ones only against each other.
    expect(counts.get("fast")).toBeGreaterThan(1_900);
    expect((counts.get("slow1") ?? 0) + (counts.get("slow2") ?? 0)).toBeLessThan(1_100);
  });

  it("tries an instance it knows nothing about, without flooding it", () => {
    const s = new LatencyAwareStrategy({ random: seeded(5), now: () => 0 });
    const [a, b, fresh] = [inst("a"), inst("b"), inst("fresh")];
    feed(s, a, 10);
    feed(s, b, 10);
    let picks = 0;
    let picked: InstanceInfo | undefined;
    while (picked?.instance !== "fresh" && picks < 50) {
      picked = s.pick([a, b, fresh]);
      picks++;
    }
    expect(picked?.instance).toBe("fresh");
    for (let i = 0; i < 5; i++) s.onStart(fresh);
    expect(tally(s, [a, b, fresh], 300).get("fresh") ?? 0).toBeLessThan(100);
  });

  it("counts failures as slow and forgets old averages, so a recovered instance is tried again", () => {
    let now = 0;
    const s = new LatencyAwareStrategy({ random: seeded(6), now: () => now, halfLifeMs: 1_000 });
    const [healthy, failing] = [inst("healthy"), inst("failing")];
    feed(s, healthy, 20);
    feed(s, failing, 1, 10, false);
    expect(tally(s, [healthy, failing], 100).get("failing")).toBeUndefined();
    now += 10_000;
    feed(s, healthy, 20);
    expect(s.pick([healthy, failing])?.instance).toBe("failing");
  });
});

describe("key-affinity", () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `order-${i}`);
  const owners = (s: Strategy, c: readonly InstanceInfo[]) => keys.map((key) => s.pick(c, { key })?.instance);

  it("keeps a key on one instance regardless of candidate order, and spreads keys evenly", () => {
    const s = new KeyAffinityStrategy();
    const c = fleet(4);
    const first = owners(s, c);
    expect(owners(s, [...c].reverse())).toEqual(first);
    for (const id of ["i0", "i1", "i2", "i3"]) {
      const share = first.filter((o) => o === id).length / keys.length;
      expect(share).toBeGreaterThan(0.2);
      expect(share).toBeLessThan(0.3);
    }
  });

  it("moves only ~1/n of the keys, all to the newcomer, when an instance joins", () => {
    const s = new KeyAffinityStrategy();
    const before = owners(s, fleet(4));
    const after = owners(s, fleet(5));
    const moved = keys.map((_, i) => i).filter((i) => before[i] !== after[i]);
    expect(moved.every((i) => after[i] === "i4")).toBe(true);
    expect(moved.length / keys.length).toBeGreaterThan(0.15);
    expect(moved.length / keys.length).toBeLessThan(0.25);
  });

  it("moves only the leaving instance's keys when one leaves", () => {
    const s = new KeyAffinityStrategy();
    const before = owners(s, fleet(5));
    const after = owners(
      s,
      fleet(5).filter((i) => i.instance !== "i2"),
    );
    const moved = keys.map((_, i) => i).filter((i) => before[i] !== after[i]);
    expect(moved.length).toBe(before.filter((o) => o === "i2").length);
    expect(moved.every((i) => before[i] === "i2")).toBe(true);
  });

  it("goes round robin for calls without a key", () => {
    const s = new KeyAffinityStrategy();
    expect([0, 1, 2].map(() => s.pick(fleet(3), {})?.instance)).toEqual(["i0", "i1", "i2"]);
  });
});

describe("resolveStrategy", () => {
  it("builds each strategy by name, passes objects through and refuses unknown names", () => {
    for (const name of ["round-robin", "random", "least-in-flight", "latency-aware", "key-affinity"]) {
      expect(resolveStrategy(name).name).toBe(name);
    }
    expect(resolveStrategy("round-robin")).not.toBe(resolveStrategy("round-robin"));
    const custom = new RoundRobinStrategy();
    expect(resolveStrategy(custom)).toBe(custom);
    expect(resolveStrategy("mine", { mine: () => custom })).toBe(custom);
    expect(() => resolveStrategy("fastest")).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
  });
});
