/**
 * @module Where the gateway's proxy route spends its time: the proxy suite's Flotilla case with the
 * gateway run under V8's sampling profiler (100 µs; through tsx, as the suite runs it: functions keep
 * their names and files, not their lines), the monolith in a process of its own, the load from this
 * process.
 * Samples before the measured run (start-up, warm-up) and idle ones are left out.
 *
 * `npx tsx bench/proxy/profile.ts [-d 10] [--warmup 3] [--connections 50] [--top 30]`
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { load } from "../edge/load.js";
import { startWorker } from "../edge/processes.js";
import { percent } from "../lib/bundle.js";
import { summarize } from "../lib/cpu-profile.js";
import { PROXY_PATH } from "./suite.js";

const { values } = parseArgs({
  options: {
    duration: { type: "string", short: "d", default: "10" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
    top: { type: "string", default: "30" },
  },
});

const dir = mkdtempSync(join(tmpdir(), "flotilla-proxy-prof-"));
const profDir = join(dir, "prof");
mkdirSync(profDir);
const legacy = startWorker("legacy", "../proxy/legacy-worker.ts", ["--db", join(dir, "reviews.db")], {
  logFile: join(dir, "legacy.log"),
});
let gateway: ChildProcess | undefined;
try {
  const upstream = String((await legacy.ready).url);
  const log = openSync(join(dir, "gateway.log"), "a");
  const started = performance.now();
  gateway = spawn(
    process.execPath,
    [
      ...process.execArgv,
      "--cpu-prof",
      `--cpu-prof-dir=${profDir}`,
      "--cpu-prof-interval=100",
      fileURLToPath(new URL("./gateway-worker.ts", import.meta.url)),
      ...["--upstream", upstream, "--data-dir", join(dir, "data")],
    ],
    { stdio: ["ignore", log, log, "ipc"], env: { ...process.env, FLOTILLA_LOG_LEVEL: "warn" } },
  );
  closeSync(log);
  const g = gateway;
  const url = await new Promise<string>((resolve, reject) => {
    g.on("message", (m: { ready?: boolean; url?: string }) => m.ready && resolve(String(m.url)));
    g.once("exit", (code) =>
      reject(new Error(`the gateway exited (${code})\n${readFileSync(join(dir, "gateway.log"))}`)),
    );
  });
  let skipMs = 0;
  const result = await load({
    url: `${url}${PROXY_PATH}`,
    headers: {},
    connections: Number(values.connections),
    warmupSec: Number(values.warmup),
    durationSec: Number(values.duration),
    beforeMeasure: () => {
      skipMs = performance.now() - started;
    },
  });
  const exited = new Promise((resolve) => g.once("exit", resolve));
  g.kill("SIGTERM");
  await exited;
  console.log(
    `${result.reqPerSec.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms under the profiler (${result.non2xx + result.errors} failed)`,
  );
  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  if (file === undefined) throw new Error("the gateway wrote no profile");
  const summary = summarize(JSON.parse(readFileSync(join(profDir, file), "utf8")), skipMs);
  const top = Number(values.top);
  console.log(`\n${summary.samples} busy samples in the measured run\n\nself   total  function`);
  for (const r of summary.functions.slice(0, top))
    console.log(`${percent(r.selfPct)} ${percent(r.totalPct)}  ${r.name}`);
  console.log("\nself   total  file");
  for (const r of summary.files.slice(0, top)) console.log(`${percent(r.selfPct)} ${percent(r.totalPct)}  ${r.name}`);
} finally {
  if (gateway !== undefined && gateway.exitCode === null) gateway.kill("SIGKILL");
  await legacy.stop();
  rmSync(dir, { recursive: true, force: true });
}
