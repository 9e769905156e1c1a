/**
 * @module Stand-in for `./autoscale/index.js` (the autoscaler and signal source, built separately), with
 * the agreed interface: an autoscaler that never recommends and signals that count ready instances only.
 * Replaced by `./autoscale/index.js` when that lands: change the import in autoscale-source.ts, drop this file.
 */
import type { ResolvedUnit } from "@flotilla/app";

/** What one unit's instances report, read every sync period. */
export interface UnitSignals {
  readonly readyInstances: number;
  readonly inFlight?: number;
  readonly lag?: number;
  readonly cpuPercent?: number;
}

/** One change of a unit's wanted instance count, with why. */
export interface ScaleDecision {
  readonly unit: string;
  readonly from: number;
  readonly to: number;
  readonly signal: "inFlight" | "lag" | "cpu" | "min" | "max" | "manual";
  readonly reason: string;
  readonly at: number;
}

/** Recommends nothing: the unit stays at the count it has. */
export class Autoscaler {
  constructor(readonly unit: ResolvedUnit) {}

  /** Always undefined (no change). */
  recommend(_current: number, _signals: UnitSignals): ScaleDecision | undefined {
    return undefined;
  }
}

/** Reads a unit's signals. */
export interface SignalSource {
  read(unit: ResolvedUnit, pids: readonly number[]): Promise<UnitSignals>;
  close(): Promise<void>;
}

/** Signals with the instance count only. */
export function signalSource(_options: { natsUrl: string; registryBucket?: string }): SignalSource {
  return {
    read: async (_unit, pids) => ({ readyInstances: pids.length }),
    close: async () => {},
  };
}
