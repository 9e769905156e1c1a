/**
 * @module Profiles one case of the call benchmark with V8's sampling profiler and prints where the
 * time goes. Usage: `npx tsx bench/profile.ts --impl flotilla [--config observed] [--top 40]`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { summarize } from "./lib/cpu-profile.js";

const { values } = parseArgs({
  options: {
    impl: { type: "string", default: "flotilla" },
    config: { type: "string", default: "bare" },
    concurrency: { type: "string", default: "1" },
    time: { type: "string", default: "4000" },
    top: { type: "string", default: "35" },
    /** Start-up and warm-up to leave out of the summary. */
    skip: { type: "string", default: "2000" },
  },
});

const dir = mkdtempSync(join(tmpdir(), "flotilla-prof-"));
const worker = fileURLToPath(new URL("./calls/worker.ts", import.meta.url));
const args = [
  ...process.execArgv,
  "--cpu-prof",
  `--cpu-prof-dir=${dir}`,
  "--cpu-prof-interval=100",
  worker,
  ...["--impl", values.impl, "--config", values.config, "--concurrency", values.concurrency],
  ...["--time", values.time, "--warmup", "1000"],
];
const run = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
if (run.status !== 0) process.exit(run.status ?? 1);
console.log(run.stdout.trim());

// The main thread's profile is the largest (tsx's loader thread writes a small one too).
const files = readdirSync(dir).map((f) => join(dir, f));
const largest = files.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0] as string;
const summary = summarize(JSON.parse(readFileSync(largest, "utf8")), Number(values.skip));
const top = Number(values.top);
console.log(`\n${summary.samples} samples (${largest})\n\nby function (self% / total%):`);
for (const r of summary.functions.slice(0, top)) console.log(fmt(r.selfPct), fmt(r.totalPct), r.name);
console.log("\nby file (self% / total%):");
for (const r of summary.files.slice(0, 25)) console.log(fmt(r.selfPct), fmt(r.totalPct), r.name);

function fmt(n: number): string {
  return `${n.toFixed(1).padStart(5)}%`;
}
