/**
 * @module One unit's autoscaler: Kubernetes HPA's algorithm (a proposal per signal, the highest wins,
 * tolerance 0.1, a stabilization window, rate policies, min/max) and KEDA's activation for units that
 * may scale to zero. Pure: the clock is injected and nothing is read or started here.
 */
import type { ResolvedUnit } from "@flotilla/app";
import { Behavior, DEFAULT_DOWNSCALE, DEFAULT_UPSCALE, type ScalePolicy } from "./behavior.js";
import type { ScaleDecision, SignalName, UnitSignals } from "./index.js";
import { externalPerPodReplicas, podMetricReplicas } from "./replica-calculator.js";

export interface AutoscalerOptions {
  /** The clock (default `Date.now`). */
  now?: () => number;
  /** A ratio within 1 ± tolerance of the target changes nothing (default 0.1, as the HPA). */
  tolerance?: number;
  /** Scale-up rules (default: 100 % or 4 instances per 15 s, whichever is more; no window). */
  upscale?: ScalePolicy;
  /** Scale-down rules (default: 100 % per 15 s after a 300 s window). */
  downscale?: ScalePolicy;
  /** Overrides the scale-down stabilization window (default 300 000 ms). */
  stabilizationWindowMs?: number;
  /** With `scaling.min` 0, how long a unit stays idle (no lag, no in-flight calls) before going to 0 (KEDA's `cooldownPeriod`, default 300 000 ms). */
  cooldownMs?: number;
}

interface Proposal {
  readonly signal: SignalName;
  readonly replicas: number;
  /** What was read, against what target: "in-flight 42 over 2 instances > 8 each". */
  readonly reading: string;
}

/** One per unit; `recommend` is called every sync period (15 s by default, as the HPA's). */
export class Autoscaler {
  private readonly now: () => number;
  private readonly tolerance: number;
  private readonly behavior: Behavior;
  private readonly windowMs: number;
  private readonly cooldownMs: number;
  private lastActive: number | undefined;

  constructor(
    private readonly unit: ResolvedUnit,
    options: AutoscalerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.tolerance = options.tolerance ?? 0.1;
    const down = options.downscale ?? DEFAULT_DOWNSCALE;
    this.windowMs = options.stabilizationWindowMs ?? down.stabilizationWindowMs;
    this.behavior = new Behavior(options.upscale ?? DEFAULT_UPSCALE, { ...down, stabilizationWindowMs: this.windowMs });
    this.cooldownMs = options.cooldownMs ?? 300_000;
  }

  /** Given the current wanted count and fresh signals, the new wanted count, or undefined for no change. */
  recommend(current: number, signals: UnitSignals): ScaleDecision | undefined {
    const now = this.now();
    const { min, max } = this.unit.scaling;
    if (current > max) return this.decide(current, max, "max", `${current} instances above max ${max} → ${max}`, now);
    if (current < min) return this.decide(current, min, "min", `${current} instances below min ${min} → ${min}`, now);
    const active = (signals.lag ?? 0) > 0 || (signals.inFlight ?? 0) > 0;
    if (active || this.lastActive === undefined) this.lastActive = now;
    if (current === 0) {
      // KEDA's activation: an HPA cannot scale from zero, so any lag or call brings the first instance.
      if (!active) return undefined;
      const signal = (signals.lag ?? 0) > 0 ? "lag" : "inFlight";
      const reading = signal === "lag" ? `lag ${fmt(signals.lag)}` : `in-flight ${fmt(signals.inFlight)}`;
      return this.decide(0, 1, signal, `${reading} > 0 activates the unit → 1`, now);
    }
    if (min === 0 && now - this.lastActive >= this.cooldownMs) {
      const idle = Math.round(this.cooldownMs / 1000);
      return this.decide(current, 0, "min", `no lag nor in-flight calls for ${idle} s → 0`, now);
    }
    return this.scale(current, signals, now);
  }

  /** The HPA's reconcile for a count within min..max: proposals, stabilization, rate limits, bounds. */
  private scale(current: number, signals: UnitSignals, now: number): ScaleDecision | undefined {
    const { proposals, invalid } = this.proposals(current, signals);
    if (proposals.length === 0) return undefined; // every metric invalid: the HPA changes nothing
    const top = proposals.reduce((a, b) => (b.replicas > a.replicas ? b : a));
    // A metric that could not be read might be the one holding the count up: only scale up without it.
    if (invalid && top.replicas < current) return undefined;
    const stabilized = this.behavior.stabilize(current, top.replicas, now);
    const notes = [`${top.reading} → ${top.replicas}`];
    if (stabilized !== top.replicas) {
      const window = Math.round(this.windowMs / 1000);
      notes.push(`highest recommendation in the last ${window} s: ${stabilized}`);
    }
    const { min, max } = this.unit.scaling;
    let to = stabilized;
    let signal: ScaleDecision["signal"] = top.signal;
    if (to > current) {
      const limit = this.behavior.upLimit(current, now);
      if (to > Math.min(max, limit)) {
        to = Math.min(max, limit);
        if (limit < max) notes.push(`the scale-up policy allows ${to}`);
        else {
          notes.push(`max ${max}`);
          signal = "max";
        }
      }
    } else if (to < current) {
      const limit = this.behavior.downLimit(current, now);
      const floor = Math.max(min, 1);
      if (to < Math.max(floor, limit)) {
        to = Math.max(floor, limit);
        if (limit > floor) notes.push(`the scale-down policy allows ${to}`);
        else {
          notes.push(`min ${floor}`);
          signal = "min";
        }
      }
    }
    if (to === current) return undefined;
    return this.decide(current, to, signal, notes.join("; ") + (notes.length > 1 ? ` → ${to}` : ""), now);
  }

  /** A proposal per signal read; `invalid` when a signal failed or had no ready instance to average over. */
  private proposals(current: number, s: UnitSignals): { proposals: Proposal[]; invalid: boolean } {
    const { inFlightPerInstance, lagPerInstance, cpuPercent } = this.unit.scaling;
    const tolerance = this.tolerance;
    const ready = s.readyInstances;
    const proposals: Proposal[] = [];
    let invalid = (s.failed?.length ?? 0) > 0;
    if (s.inFlight !== undefined) {
      const average = ready > 0 ? s.inFlight / ready : 0;
      const replicas = podMetricReplicas({ current, ready, average, target: inFlightPerInstance, tolerance });
      const reading = `in-flight ${fmt(s.inFlight)} over ${ready} instances ${cmp(average, inFlightPerInstance)} ${fmt(inFlightPerInstance)} each`;
      if (replicas === undefined) invalid = true;
      else proposals.push({ signal: "inFlight", replicas, reading });
    }
    if (s.lag !== undefined) {
      const replicas = externalPerPodReplicas(current, s.lag, lagPerInstance, tolerance);
      const reading = `lag ${fmt(s.lag)} over ${current} instances ${cmp(s.lag / current, lagPerInstance)} ${fmt(lagPerInstance)} each`;
      proposals.push({ signal: "lag", replicas, reading });
    }
    if (s.cpuPercent !== undefined) {
      const replicas = podMetricReplicas({ current, ready, average: s.cpuPercent, target: cpuPercent, tolerance });
      const reading = `CPU ${fmt(s.cpuPercent)}% per instance ${cmp(s.cpuPercent, cpuPercent)} ${fmt(cpuPercent)}% of a core`;
      if (replicas === undefined) invalid = true;
      else proposals.push({ signal: "cpu", replicas, reading });
    }
    return { proposals, invalid };
  }

  private decide(from: number, to: number, signal: ScaleDecision["signal"], reason: string, at: number): ScaleDecision {
    this.behavior.scaled(from, to, at);
    return { unit: this.unit.name, from, to, signal, reason, at };
  }
}

function cmp(value: number, target: number): string {
  return value > target ? ">" : value < target ? "<" : "=";
}

function fmt(n: number | undefined): string {
  return n === undefined ? "?" : Number.isInteger(n) ? String(n) : n.toFixed(1);
}
