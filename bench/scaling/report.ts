/** @module What the scaling load test prints: instances over time, figures per phase, decisions, checks. */
import { table } from "../lib/report.js";
import type { LoadRun, Sample } from "./load.js";
import type { Phase, ScalingOptions } from "./phases.js";

/** Ready and wanted instances of every unit at one moment. */
export interface Snapshot {
  readonly at: number;
  readonly phase: string;
  readonly units: Readonly<Record<string, { ready: number; desired: number }>>;
  /** The watched unit's last signals as the supervisor read them: "in-flight 3, CPU 45%, lag 0". */
  readonly signals?: string;
}

export interface Decision {
  readonly unit: string;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  readonly at: number;
}

export interface Check {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

const ROW_MS = 10_000;

export function percentile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number);
}

function latencies(samples: readonly Sample[]): number[] {
  return samples.map((s) => s.endedAt - s.startedAt).sort((a, b) => a - b);
}

/**
 * One row per 10 s: the phase as the row starts; each unit's ready/wanted instances and the watched
 * unit's signals as it ends; requests started in those 10 s, how many failed, their p99.
 */
export function renderTimeline(
  snapshots: readonly Snapshot[],
  samples: readonly Sample[],
  t0: number,
  watched: string,
): string {
  const units = Object.keys(snapshots[0]?.units ?? {});
  const rows: string[][] = [];
  for (let from = t0; from <= (snapshots.at(-1)?.at ?? t0); from += ROW_MS) {
    const start = snapshots.find((s) => s.at >= from) ?? snapshots[0];
    const snap = [...snapshots].reverse().find((s) => s.at < from + ROW_MS) ?? snapshots[0];
    if (snap === undefined || start === undefined) break;
    const window = samples.filter((s) => s.startedAt >= from && s.startedAt < from + ROW_MS);
    rows.push([
      `${Math.round((from - t0) / 1000)} s`,
      start.phase,
      ...units.map((u) => `${snap.units[u]?.ready ?? 0}/${snap.units[u]?.desired ?? 0}`),
      `${Math.round(window.length / (ROW_MS / 1000))}`,
      `${window.filter((s) => !s.ok).length}`,
      `${percentile(latencies(window), 0.99)} ms`,
      snap.signals ?? "",
    ]);
  }
  const header = ["t", "phase", ...units.map((u) => `${u} ready/wanted`), "req/s", "failed", "p99"];
  return table([...header, `${watched} signals`], rows);
}

export function renderPhases(phases: readonly Phase[], run: LoadRun): string {
  return table(
    ["phase", "target", "sent", "answered", "failed", "not sent (client cap)", "p50", "p99", "max"],
    phases.map((p) => {
      const samples = run.samples.filter((s) => s.phase === p.name);
      const sorted = latencies(samples);
      return [
        p.name,
        `${p.rps} req/s × ${p.ms / 1000} s`,
        `${samples.length}`,
        `${samples.filter((s) => s.status !== 0).length}`,
        `${samples.filter((s) => !s.ok).length}`,
        `${run.skipped.get(p.name) ?? 0}`,
        `${percentile(sorted, 0.5)} ms`,
        `${percentile(sorted, 0.99)} ms`,
        `${sorted.at(-1) ?? 0} ms`,
      ];
    }),
  );
}

export function renderDecisions(decisions: readonly Decision[], t0: number): string {
  if (decisions.length === 0) return "(no scale decisions)";
  return decisions
    .map((d) => `- ${Math.round((d.at - t0) / 1000)} s: ${d.unit} ${d.from} → ${d.to}: ${d.reason}`)
    .join("\n");
}

/** Requests started while instances were being removed: from a scale-down decision to 30 s after it. */
const REMOVAL_MS = 30_000;

export function checks(
  options: ScalingOptions,
  snapshots: readonly Snapshot[],
  decisions: readonly Decision[],
  run: LoadRun,
): Check[] {
  const counts = snapshots.map((s) => s.units[options.unit]?.ready ?? 0);
  const peak = Math.max(0, ...counts);
  const ups = decisions.filter((d) => d.to > d.from);
  const downs = decisions.filter((d) => d.to < d.from);
  const scalingFrom = ups[0]?.at ?? Number.POSITIVE_INFINITY;
  const scalingTo = (downs.at(-1)?.at ?? Number.NEGATIVE_INFINITY) + REMOVAL_MS;
  const whileScaling = run.samples.filter((s) => s.startedAt >= scalingFrom && s.startedAt <= scalingTo);
  const p99 = percentile(latencies(whileScaling), 0.99);
  const duringRemoval = run.samples.filter(
    (s) => !s.ok && downs.some((d) => s.startedAt >= d.at - 1_000 && s.startedAt <= d.at + REMOVAL_MS),
  );
  const failed = run.samples.filter((s) => !s.ok);
  return [
    {
      name: `${options.unit} goes 1 → N → 1`,
      pass: counts[0] === 1 && peak >= 2 && counts.at(-1) === 1,
      detail: `ready instances: first ${counts[0]}, peak ${peak}, last ${counts.at(-1)}`,
    },
    {
      name: `p99 while scaling under ${options.p99BoundMs} ms`,
      pass: whileScaling.length > 0 && p99 <= options.p99BoundMs,
      detail: `${p99} ms over ${whileScaling.length} requests (first scale-up to 30 s after the last scale-down)`,
    },
    {
      name: "no failed request while instances are removed",
      pass: downs.length > 0 && duringRemoval.length === 0,
      detail: `${duringRemoval.length} failed within 30 s of ${downs.length} scale-downs; ${failed.length} failed in the whole run (${statuses(failed)})`,
    },
  ];
}

function statuses(failed: readonly Sample[]): string {
  const by = new Map<number, number>();
  for (const s of failed) by.set(s.status, (by.get(s.status) ?? 0) + 1);
  return [...by].map(([status, n]) => `${status === 0 ? "no answer" : status} ×${n}`).join(", ") || "none";
}
