/**
 * @module The HPA's `behavior`: a stabilization window over past recommendations, then rate policies
 * that bound how many instances one period may add or remove. Defaults are Kubernetes' own.
 */

/** One rate policy: at most `value` instances (`pods`) or `value` percent (`percent`) per `periodMs`. */
export interface RatePolicy {
  readonly type: "pods" | "percent";
  readonly value: number;
  readonly periodMs: number;
}

/** How one direction scales, as an HPA's `scaleUp` or `scaleDown` rules. */
export interface ScalePolicy {
  readonly policies: readonly RatePolicy[];
  /** Which policy wins: the one allowing the most change (`max`, default), the least (`min`), or none (`disabled`). */
  readonly select?: "max" | "min" | "disabled";
  /** Recommendations this far back are considered (scale-up: lowest of them; scale-down: highest). */
  readonly stabilizationWindowMs: number;
}

/** Kubernetes' default scale-up: double or add 4 instances per 15 s, whichever is more, at once. */
export const DEFAULT_UPSCALE: ScalePolicy = {
  policies: [
    { type: "percent", value: 100, periodMs: 15_000 },
    { type: "pods", value: 4, periodMs: 15_000 },
  ],
  select: "max",
  stabilizationWindowMs: 0,
};

/** Kubernetes' default scale-down: any number per 15 s, after a 300 s window of lower recommendations. */
export const DEFAULT_DOWNSCALE: ScalePolicy = {
  policies: [{ type: "percent", value: 100, periodMs: 15_000 }],
  select: "max",
  stabilizationWindowMs: 300_000,
};

interface Stamped {
  readonly value: number;
  readonly at: number;
}

/** One unit's recommendation history and scale events: what the HPA controller keeps per target. */
export class Behavior {
  private recommendations: Stamped[] = [];
  private ups: Stamped[] = [];
  private downs: Stamped[] = [];

  constructor(
    private readonly up: ScalePolicy,
    private readonly down: ScalePolicy,
  ) {}

  /**
   * HPA's `stabilizeRecommendationWithBehaviors`: the lowest recommendation in the scale-up window and
   * the highest in the scale-down window bound the new one; the raw recommendation is then remembered.
   * A fresh history starts with the current count, so nothing scales down within a window of starting.
   */
  stabilize(current: number, desired: number, now: number): number {
    if (this.recommendations.length === 0) this.recommendations.push({ value: current, at: now });
    const upCutoff = now - this.up.stabilizationWindowMs;
    const downCutoff = now - this.down.stabilizationWindowMs;
    let upLimit = desired;
    let downLimit = desired;
    for (const r of this.recommendations) {
      if (r.at > upCutoff) upLimit = Math.min(upLimit, r.value);
      if (r.at > downCutoff) downLimit = Math.max(downLimit, r.value);
    }
    this.recommendations = this.recommendations.filter((r) => r.at > Math.min(upCutoff, downCutoff));
    this.recommendations.push({ value: desired, at: now });
    return Math.min(Math.max(current, upLimit), downLimit);
  }

  /** The highest count the scale-up policies allow now (never below `current`). */
  upLimit(current: number, now: number): number {
    const select = this.up.select ?? "max";
    if (select === "disabled") return current;
    const proposals = this.up.policies.map((p) => {
      const start = this.periodStart(current, p.periodMs, now);
      return p.type === "pods" ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    });
    return Math.max(current, select === "max" ? Math.max(...proposals) : Math.min(...proposals));
  }

  /** The lowest count the scale-down policies allow now (never above `current`). */
  downLimit(current: number, now: number): number {
    const select = this.down.select ?? "max";
    if (select === "disabled") return current;
    const proposals = this.down.policies.map((p) => {
      const start = this.periodStart(current, p.periodMs, now);
      return p.type === "pods" ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    });
    return Math.min(current, select === "max" ? Math.min(...proposals) : Math.max(...proposals));
  }

  /** Remembers a change made, for the rate policies of the periods to come. */
  scaled(from: number, to: number, now: number): void {
    const longest = Math.max(...[...this.up.policies, ...this.down.policies].map((p) => p.periodMs), 0);
    this.ups = this.ups.filter((e) => e.at > now - longest);
    this.downs = this.downs.filter((e) => e.at > now - longest);
    if (to > from) this.ups.push({ value: to - from, at: now });
    if (to < from) this.downs.push({ value: from - to, at: now });
  }

  /** The count at the start of a policy's period: now, less what it added, plus what it removed. */
  private periodStart(current: number, periodMs: number, now: number): number {
    const within = (events: Stamped[]) => events.filter((e) => e.at > now - periodMs).reduce((n, e) => n + e.value, 0);
    return current - within(this.ups) + within(this.downs);
  }
}
