/**
 * @module Profiles one replay case with V8's sampling profiler (100 µs) and prints where the time goes.
 * Usage: `npx tsx bench/replay/profile.ts [--role rebuild|ceiling] [--events 100000] [--batch N] [--top 40]`.
 * The worker is bundled (so Flotilla's functions are named after their source files); the history is
 * written before the profiled process starts, and samples outside `rebuildProjection` (or the ceiling's
 * loop) — start-up, opening the database — are left out by `--skip`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bundleWorker, percent } from "../lib/bundle.js";
import { summarize } from "../lib/cpu-profile.js";

const { values } = parseArgs({
  options: {
    role: { type: "string", default: "rebuild" },
    events: { type: "string", default: "100000" },
    batch: { type: "string" },
    top: { type: "string", default: "40" },
    /** Start-up to leave out of the summary (ms). */
    skip: { type: "string", default: "300" },
  },
});

const dir = mkdtempSync(join(tmpdir(), "flotilla-replay-prof-"));
const dataDir = join(dir, "data");
const profDir = join(dir, "prof");
mkdirSync(profDir);
const appWorker = fileURLToPath(new URL("./app-worker.ts", import.meta.url));
const fill = spawnSync(
  process.execPath,
  [...process.execArgv, appWorker, "--role", "fill", "--data-dir", dataDir, "--events", values.events],
  {
    stdio: ["ignore", "inherit", "inherit"],
  },
);
if (fill.status !== 0) process.exit(fill.status ?? 1);

const bundle = bundleWorker("replay/worker", dir);
const args = [
  "--cpu-prof",
  `--cpu-prof-dir=${profDir}`,
  "--cpu-prof-interval=100",
  bundle,
  ...["--role", values.role, "--data-dir", dataDir],
  ...(values.batch === undefined ? [] : ["--batch", values.batch]),
];
const run = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
if (run.status !== 0) process.exit(run.status ?? 1);
const result = JSON.parse(run.stdout.trim().split("\n").at(-1) as string) as {
  events: number;
  seconds: number;
  cpuUs: number;
};
console.log(
  `${values.role}: ${result.events} events in ${result.seconds.toFixed(2)} s ` +
    `(${Math.round(result.events / result.seconds)} events/s, ${(result.cpuUs / result.events).toFixed(1)} µs CPU/event, under the profiler)`,
);

const files = readdirSync(profDir).map((f) => join(profDir, f));
const largest = files.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0] as string;
const summary = summarize(JSON.parse(readFileSync(largest, "utf8")), Number(values.skip));
const top = Number(values.top);
console.log(`\n${summary.samples} busy samples\n\nby function (self% / total%):`);
for (const r of summary.functions.slice(0, top)) console.log(percent(r.selfPct), percent(r.totalPct), r.name);
console.log("\nby file (self% / total%):");
for (const r of summary.files.slice(0, 25)) console.log(percent(r.selfPct), percent(r.totalPct), r.name);
rmSync(dir, { recursive: true, force: true });
