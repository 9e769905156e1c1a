/**
 * @module The projection-replay benchmark: how fast `flotilla replay` rebuilds the shop's `catalog.sales`
 * projection from the in-process transport's SQLite event journal (what `npm start` keeps), with the app
 * idle and while it serves a steady rate of orders, against a plain better-sqlite3 loop doing the same
 * upserts (the ceiling). Every case runs in fresh child processes (`worker.ts`, `app-worker.ts`) over
 * one data directory filled once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ops, ratio, table } from "../lib/report.js";
import { Child } from "../nats/child.js";
import { cpuMicros } from "../nats/cpu.js";

export const REPLAY_CASES = ["ceiling", "rebuild", "cli"] as const;
export type ReplayCase = (typeof REPLAY_CASES)[number];

/** The issue's goal, events per second with the app idle. */
const GOAL = 50_000;

export interface ReplaySuiteOptions {
  /** Events in the history. */
  events: number;
  cases: readonly ReplayCase[];
  repeat: number;
  /** Orders per second the app places during the replay under load; 0: no such case. */
  rate: number;
  /** `--batch` of the replay (events per transaction); default: the command's. */
  batch?: number;
}

export interface Run {
  events: number;
  seconds: number;
  cpuUs: number;
}

export interface LoadResult {
  replay: Run;
  rate: number;
  /** Orders placed (each an action call, a call to the catalog and an OrderPlaced event) during the replay. */
  calls: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  firstError?: string;
  /** The app's CPU time per order during the replay (µs). */
  appCpuUs: number;
  /** Afterwards, the projection counted every OrderPlaced of the journal exactly once. */
  exact: boolean;
  counted: number;
  expected: number;
}

export interface ReplayResults {
  events: number;
  fillSeconds: number;
  idle: Partial<Record<ReplayCase, Run>>;
  load?: LoadResult;
  loadavg: number[];
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const WORKER = here("./worker.ts");
const APP_WORKER = here("./app-worker.ts");

const perSecond = (r: Run) => r.events / r.seconds;
const cpuPerEvent = (r: Run) => r.cpuUs / r.events;

async function runOnce(label: string, script: string, args: string[]): Promise<Run> {
  const child = new Child(label, script, args);
  try {
    const msg = await child.expect("events", 600_000);
    return { events: Number(msg.events), seconds: Number(msg.seconds), cpuUs: Number(msg.cpuUs) };
  } finally {
    await child.stop();
  }
}

export async function runReplaySuite(o: ReplaySuiteOptions, log: (line: string) => void): Promise<ReplayResults> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-replay-bench-"));
  const dataDir = join(dir, "data");
  const batch = o.batch === undefined ? [] : ["--batch", String(o.batch)];
  try {
    log(`replay: writing ${o.events} OrderPlaced events into the journal`);
    const filler = new Child("fill", APP_WORKER, [
      "--role",
      "fill",
      "--data-dir",
      dataDir,
      "--events",
      String(o.events),
    ]);
    const filled = await filler.expect("filled", 600_000);
    await filler.stop();
    const idle: Partial<Record<ReplayCase, Run>> = {};
    // Interleaved rounds; the fastest run of each case is kept (noise only ever slows a run).
    for (let round = 0; round < o.repeat; round++) {
      for (const c of o.cases) {
        const script = c === "cli" ? APP_WORKER : WORKER;
        const run = await runOnce(c, script, ["--role", c, "--data-dir", dataDir, ...batch]);
        log(`replay: ${c} ${ops(perSecond(run))} events/s, ${cpuPerEvent(run).toFixed(1)} µs CPU/event`);
        const best = idle[c];
        if (best === undefined || perSecond(run) > perSecond(best)) idle[c] = run;
      }
    }
    const load = o.rate > 0 ? await underLoad(dataDir, o.rate, batch, log) : undefined;
    return { events: o.events, fillSeconds: Number(filled.seconds), idle, load, loadavg: loadavg() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The shop placing orders at `rate` per second (open loop) while `flotilla replay` rebuilds the projection. */
async function underLoad(dataDir: string, rate: number, batch: string[], log: (line: string) => void) {
  const app = new Child("app", APP_WORKER, ["--role", "app", "--data-dir", dataDir, "--rate", String(rate)]);
  try {
    await app.expect("ready", 60_000);
    app.send({ go: true });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const fromNs = Number(process.hrtime.bigint());
    const cpu0 = cpuMicros(app.pid);
    const replay = await runOnce("cli under load", APP_WORKER, ["--role", "cli", "--data-dir", dataDir, ...batch]);
    const toNs = Number(process.hrtime.bigint());
    const cpu1 = cpuMicros(app.pid);
    app.send({ stop: { fromNs, toNs } });
    const stats = await app.expect("calls", 120_000);
    const result: LoadResult = {
      replay,
      rate,
      calls: Number(stats.calls),
      seconds: Number(stats.seconds),
      p50Ms: Number(stats.p50Ms),
      p99Ms: Number(stats.p99Ms),
      maxMs: Number(stats.maxMs),
      errors: Number(stats.errors),
      ...(stats.firstError === undefined ? {} : { firstError: String(stats.firstError) }),
      appCpuUs: (cpu1 - cpu0) / Math.max(1, Number(stats.calls)),
      exact: stats.exact === true,
      counted: Number(stats.counted),
      expected: Number(stats.expected),
    };
    log(
      `replay: under load ${ops(perSecond(replay))} events/s; app ${ops(result.calls / result.seconds)} orders/s, exact: ${result.exact}`,
    );
    return result;
  } finally {
    await app.stop(60_000);
  }
}

const LABELS: Record<ReplayCase, string> = {
  ceiling: "ceiling: better-sqlite3 loop, a transaction per 500 events",
  rebuild: "rebuildProjection (in process)",
  cli: "flotilla replay catalog.sales",
};

export function renderReplay(r: ReplayResults): string {
  const ceiling = r.idle.ceiling;
  const rows = REPLAY_CASES.flatMap((c) => {
    const run = r.idle[c];
    if (run === undefined) return [];
    return [
      [
        LABELS[c],
        ops(perSecond(run)),
        `${cpuPerEvent(run).toFixed(1)} µs`,
        ceiling === undefined ? "–" : ratio(perSecond(run), perSecond(ceiling)),
        ceiling === undefined ? "–" : ratio(cpuPerEvent(run), cpuPerEvent(ceiling)),
      ],
    ];
  });
  if (r.load !== undefined) {
    const run = r.load.replay;
    rows.push([
      `flotilla replay, app placing ${r.load.rate} orders/s`,
      ops(perSecond(run)),
      `${cpuPerEvent(run).toFixed(1)} µs`,
      ceiling === undefined ? "–" : ratio(perSecond(run), perSecond(ceiling)),
      ceiling === undefined ? "–" : ratio(cpuPerEvent(run), cpuPerEvent(ceiling)),
    ]);
  }
  const lines = [
    `${ops(r.events)} events in the history (filled in ${r.fillSeconds.toFixed(1)} s); load average at the end ${r.loadavg.map((n) => n.toFixed(1)).join(" ")}\n`,
    table(["case (idle app unless said)", "events/s", "CPU/event", "rate vs ceiling", "CPU vs ceiling"], rows),
  ];
  if (r.load !== undefined) {
    const l = r.load;
    lines.push(
      "",
      table(
        ["app during the replay under load", "orders/s", "p50", "p99", "max", "errors", "app CPU/order", "exact after"],
        [
          [
            `shop at ${l.rate} orders/s (call + catalog call + event)`,
            ops(l.calls / l.seconds),
            `${l.p50Ms.toFixed(1)} ms`,
            `${l.p99Ms.toFixed(1)} ms`,
            `${l.maxMs.toFixed(0)} ms`,
            `${l.errors}${l.firstError ? ` (${l.firstError})` : ""}`,
            `${l.appCpuUs.toFixed(0)} µs`,
            `${l.exact ? "yes" : "NO"} (${l.counted}/${l.expected})`,
          ],
        ],
      ),
    );
  }
  return lines.join("\n");
}

export function replayGoals(r: ReplayResults): string[] {
  const cli = r.idle.cli;
  if (cli === undefined) return [];
  const met = perSecond(cli) >= GOAL;
  const lines = [
    `Goal replay ≥ ${ops(GOAL)} events/s on SQLite, app idle: ${met ? "met" : "NOT met"} (${ops(perSecond(cli))}/s; ` +
      `${ops(1e6 / cpuPerEvent(cli))}/s if it had a core to itself, from its CPU per event)`,
  ];
  if (r.load !== undefined && !r.load.exact) lines.push("The projection did NOT count every event exactly once.");
  return lines;
}
