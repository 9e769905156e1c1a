/** @module Latency-aware: power of two choices over a moving average of each instance's latency. */
import type { InstanceInfo } from "../registry/registry.js";
import type { Random, Strategy } from "./strategy.js";

export interface LatencyAwareOptions {
  /** Weight of a new sample in the moving average, in (0, 1] (0.3). */
  alpha?: number;
  /** An average halves for every this many ms without a sample (10 s), so a slow instance that recovered gets tried again. */
  halfLifeMs?: number;
  /** A call that failed counts as at least this slow (1 s). */
  failurePenaltyMs?: number;
  random?: Random;
  now?: () => number;
}

interface Stats {
  ewma: number | undefined;
  at: number;
  open: number;
}

/**
 * Compares two random candidates and takes the cheaper: cost = average latency × (open calls + 1).
 * Two choices avoid the herd that "always the fastest" sends to one instance. An instance with no
 * sample yet costs nothing while it has no call open, so newcomers are tried at once but not flooded.
 */
export class LatencyAwareStrategy implements Strategy {
  readonly name = "latency-aware";
  private readonly stats = new Map<string, Stats>();
  private readonly alpha: number;
  private readonly halfLifeMs: number;
  private readonly penaltyMs: number;
  private readonly random: Random;
  private readonly now: () => number;
  /** Latency across all instances, the guess for a newcomer that already has calls open. */
  private typical = 0;

  constructor(options: LatencyAwareOptions = {}) {
    this.alpha = options.alpha ?? 0.3;
    this.halfLifeMs = options.halfLifeMs ?? 10_000;
    this.penaltyMs = options.failurePenaltyMs ?? 1_000;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  pick(candidates: readonly InstanceInfo[]): InstanceInfo | undefined {
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    if (this.stats.size > 2 * n + 8) this.prune(candidates);
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++;
    const a = candidates[i] as InstanceInfo;
    const b = candidates[j] as InstanceInfo;
    const costA = this.cost(a.instance);
    const costB = this.cost(b.instance);
    if (costA !== costB) return costA < costB ? a : b;
    return this.random() < 0.5 ? a : b;
  }

  onStart(instance: InstanceInfo): void {
    this.entry(instance.instance).open++;
  }

  onEnd(instance: InstanceInfo, latencyMs: number, ok: boolean): void {
    const s = this.entry(instance.instance);
    s.open = Math.max(0, s.open - 1);
    const sample = ok ? latencyMs : Math.max(latencyMs, this.penaltyMs);
    const previous = this.latency(s);
    s.ewma = previous === undefined ? sample : this.alpha * sample + (1 - this.alpha) * previous;
    s.at = this.now();
    this.typical = this.typical === 0 ? sample : this.alpha * sample + (1 - this.alpha) * this.typical;
  }

  /** The decayed average latency of an instance, undefined before its first sample. */
  latencyOf(instance: string): number | undefined {
    const s = this.stats.get(instance);
    return s === undefined ? undefined : this.latency(s);
  }

  private cost(instance: string): number {
    const s = this.stats.get(instance);
    const open = s?.open ?? 0;
    const latency = s === undefined ? undefined : this.latency(s);
    if (latency === undefined) return open === 0 ? 0 : this.typical * (open + 1);
    return latency * (open + 1);
  }

  private latency(s: Stats): number | undefined {
    if (s.ewma === undefined) return undefined;
    return s.ewma * 2 ** (-(this.now() - s.at) / this.halfLifeMs);
  }

  private entry(instance: string): Stats {
    let s = this.stats.get(instance);
    if (s === undefined) {
      s = { ewma: undefined, at: this.now(), open: 0 };
      this.stats.set(instance, s);
    }
    return s;
  }

  private prune(candidates: readonly InstanceInfo[]): void {
    const live = new Set(candidates.map((c) => c.instance));
    for (const [instance, s] of this.stats) if (!live.has(instance) && s.open === 0) this.stats.delete(instance);
  }
}
