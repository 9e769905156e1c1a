/** @module Autoscaling of deployment units: Kubernetes HPA's algorithm and timing over a unit's signals. */
import type { ResolvedUnit } from "@flotilla/app";

/** A signal the autoscaler reads. */
export type SignalName = "inFlight" | "lag" | "cpu";

/** What one unit's instances report, read every sync period. */
export interface UnitSignals {
  /** Instances counted (ready ones). */
  readonly readyInstances: number;
  /** Total in-flight calls over the unit's ready instances; absent when unknown. */
  readonly inFlight?: number;
  /** JetStream lag as KEDA reads it, of the unit's most lagging consumer; absent when the unit consumes no events. */
  readonly lag?: number;
  /** Mean CPU per ready instance, percent of one core; absent where it cannot be read. */
  readonly cpuPercent?: number;
  /** Signals whose reading failed this period: as in an HPA, they block a scale-down but not a scale-up. */
  readonly failed?: readonly SignalName[];
}

/** A change of a unit's wanted instance count, with the reason a person reads in the log. */
export interface ScaleDecision {
  readonly unit: string;
  readonly from: number;
  readonly to: number;
  readonly signal: SignalName | "min" | "max" | "manual";
  /** One line: "in-flight 42 over 2 instances > 8 each → 6". */
  readonly reason: string;
  /** `Date.now()` (or the injected clock) when decided. */
  readonly at: number;
}

/** Reads a unit's signals: in-flight from the registry, lag from JetStream consumer info, CPU from /proc/<pid>/stat. */
export interface SignalSource {
  read(unit: ResolvedUnit, pids: readonly number[]): Promise<UnitSignals>;
  close(): Promise<void>;
}

export type { AutoscalerOptions } from "./autoscaler.js";
export { Autoscaler } from "./autoscaler.js";
export type { RatePolicy, ScalePolicy } from "./behavior.js";
export { DEFAULT_DOWNSCALE, DEFAULT_UPSCALE } from "./behavior.js";
export type { SignalSourceOptions } from "./signal-source.js";
export { signalSource } from "./signal-source.js";
