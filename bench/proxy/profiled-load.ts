/**
 * @module One server under load and under V8's sampling profiler (100 µs): a benchmark worker started
 * through tsx as the suites start it (functions keep their names and files, not their lines) with
 * `--cpu-prof`, the load from this process; prints where the busy samples of the measured run went
 * (start-up, warm-up and idle samples left out).
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { load } from "../edge/load.js";
import { percent } from "../lib/bundle.js";
import { summarize } from "../lib/cpu-profile.js";

export interface ProfiledLoad {
  /** The worker, relative to bench/: `proxy/gateway-worker.ts`. It announces `{ ready, url }` over IPC. */
  script: string;
  args: readonly string[];
  env: Record<string, string>;
  /** Requested on the worker's url. */
  path: string;
  /** Paths each connection requests in turn instead of `path`. */
  paths?: readonly string[];
  /** Where the profile and the worker's log go. */
  dir: string;
  connections: number;
  warmupSec: number;
  durationSec: number;
  /** Rows of each table printed. */
  top: number;
}

/** What every profile script takes: `-d SEC`, `--warmup SEC`, `--connections N`, `--top ROWS`, and its own string options with defaults. */
export function profileArgs(extra: Record<string, string> = {}) {
  const options: Record<string, { type: "string"; short?: string; default: string }> = {
    duration: { type: "string", short: "d", default: "10" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
    top: { type: "string", default: "30" },
  };
  for (const [name, fallback] of Object.entries(extra)) options[name] = { type: "string", default: fallback };
  const values = parseArgs({ options }).values as Record<string, string>;
  const load = {
    connections: Number(values.connections),
    warmupSec: Number(values.warmup),
    durationSec: Number(values.duration),
    top: Number(values.top),
  };
  return { values, load };
}

export async function profileUnderLoad(o: ProfiledLoad): Promise<void> {
  const profDir = join(o.dir, "prof");
  mkdirSync(profDir);
  const logFile = join(o.dir, "profiled.log");
  const log = openSync(logFile, "a");
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      "--cpu-prof",
      `--cpu-prof-dir=${profDir}`,
      "--cpu-prof-interval=100",
      fileURLToPath(new URL(`../${o.script}`, import.meta.url)),
      ...o.args,
    ],
    { stdio: ["ignore", log, log, "ipc"], env: { ...process.env, ...o.env } },
  );
  closeSync(log);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.on("message", (m: { ready?: boolean; url?: string }) => m.ready && resolve(String(m.url)));
      void exited.then(() => reject(new Error(`${o.script} exited before it was ready\n${readFileSync(logFile)}`)));
    });
    let skipMs = 0;
    const result = await load({
      url: `${url}${o.path}`,
      ...(o.paths === undefined ? {} : { paths: o.paths }),
      headers: {},
      connections: o.connections,
      warmupSec: o.warmupSec,
      durationSec: o.durationSec,
      beforeMeasure: () => {
        skipMs = performance.now() - started;
      },
    });
    // The profile is written when the worker exits.
    child.kill("SIGTERM");
    await exited;
    console.log(
      `${result.reqPerSec.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms under the profiler (${result.non2xx + result.errors} failed)`,
    );
    // tsx's loader thread writes a profile of its own; the main thread's is the large one.
    const file = readdirSync(profDir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .sort((a, b) => statSync(join(profDir, b)).size - statSync(join(profDir, a)).size)[0];
    if (file === undefined) throw new Error(`${o.script} wrote no profile`);
    const summary = summarize(JSON.parse(readFileSync(join(profDir, file), "utf8")), skipMs);
    console.log(`\n${summary.samples} busy samples in the measured run\n\nself   total  function`);
    for (const r of summary.functions.slice(0, o.top)) {
      console.log(`${percent(r.selfPct)} ${percent(r.totalPct)}  ${r.name}`);
    }
    console.log("\nself   total  file");
    for (const r of summary.files.slice(0, o.top))
      console.log(`${percent(r.selfPct)} ${percent(r.totalPct)}  ${r.name}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
