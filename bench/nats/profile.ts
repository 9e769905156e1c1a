/**
 * @module Profiles one case of a distributed benchmark: both of its processes run under V8's sampling
 * profiler, and the share of busy samples per function and per file is printed for each side.
 *
 * `npx tsx bench/nats/profile.ts --suite events --impl flotilla [--time 5000] [--in-flight 100]`
 * `npx tsx bench/nats/profile.ts --suite rpc --impl flotilla --in-flight 100`
 *
 * With `--bundle` the worker is first bundled with esbuild (Flotilla's TypeScript included, the npm
 * packages left external), so that samples map to source lines: tsx strips line breaks.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { summarize } from "../lib/cpu-profile.js";
import { isEventImpl } from "./event-cases.js";
import { renderEvents, runEventSuite } from "./event-suite.js";
import { RPC_EXTRA_IMPLS, RPC_IMPLS, type RpcImpl } from "./rpc-cases.js";
import { renderRpc, runRpcSuite } from "./rpc-suite.js";
import { startBenchServer } from "./server.js";

const { values } = parseArgs({
  options: {
    suite: { type: "string", default: "events" },
    impl: { type: "string", default: "flotilla" },
    "in-flight": { type: "string", default: "100" },
    time: { type: "string", default: "5000" },
    warmup: { type: "string", default: "1000" },
    top: { type: "string", default: "30" },
    /** Start-up and warm-up to leave out of the summary. */
    skip: { type: "string", default: "2500" },
    bundle: { type: "boolean", default: false },
  },
});

const dir = mkdtempSync(join(tmpdir(), "flotilla-nats-prof-"));
const flags = (side: string) => {
  mkdirSync(join(dir, side));
  return ["--cpu-prof", `--cpu-prof-dir=${join(dir, side)}`, "--cpu-prof-interval=100"];
};
const worker = values.bundle ? bundle(values.suite === "rpc" ? "rpc-worker" : "event-worker") : undefined;
const common = { timeMs: Number(values.time), warmupMs: Number(values.warmup), repeat: 1, worker };
const inFlight = Number(values["in-flight"]);

const server = await startBenchServer();
let sides: string[];
try {
  if (values.suite === "rpc") {
    if (![...RPC_IMPLS, ...RPC_EXTRA_IMPLS].includes(values.impl as RpcImpl))
      throw new Error(`--impl ${[...RPC_IMPLS, ...RPC_EXTRA_IMPLS].join("|")}`);
    sides = ["server", "client"];
    const results = await runRpcSuite(
      {
        ...common,
        impls: [values.impl as RpcImpl],
        inFlight: [inFlight],
        url: server.url,
        natsPid: server.handle.pid,
        serverFlags: flags("server"),
        clientFlags: flags("client"),
      },
      (line) => console.error(line),
    );
    console.log(renderRpc(results));
  } else {
    if (!isEventImpl(values.impl)) throw new Error("--impl raw|flotilla|raw+FEATURE…");
    sides = ["producer", "consumer"];
    const results = await runEventSuite(
      {
        ...common,
        impls: [values.impl],
        inFlight: [inFlight],
        url: server.url,
        natsPid: server.handle.pid,
        reset: () => server.reset(),
        producerFlags: flags("producer"),
        consumerFlags: flags("consumer"),
      },
      (line) => console.error(line),
    );
    console.log(renderEvents(results));
  }
} finally {
  await server.stop();
}

const top = Number(values.top);
for (const side of sides) {
  // The main thread's profile is the largest (tsx's loader thread writes a small one too).
  const files = readdirSync(join(dir, side)).map((f) => join(dir, side, f));
  const largest = files.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0] as string;
  const summary = summarize(JSON.parse(readFileSync(largest, "utf8")), Number(values.skip));
  console.log(`\n## ${side}: ${summary.samples} busy samples (${largest})\n\nby function (self% / total%):`);
  for (const r of summary.functions.slice(0, top)) console.log(fmt(r.selfPct), fmt(r.totalPct), r.name);
  console.log("\nby file (self% / total%):");
  for (const r of summary.files.slice(0, 25)) console.log(fmt(r.selfPct), fmt(r.totalPct), r.name);
}

/** Bundles a worker next to a `node_modules` link to the repository's, so its externals resolve. */
function bundle(name: string): string {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const out = join(dir, `${name}.mjs`);
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const externals = ["@nats-io/*", "moleculer", "nats", "zod", "pino", "prom-client", "@opentelemetry/*"];
  const build = spawnSync(
    join(root, "node_modules/.bin/esbuild"),
    [
      join(root, `bench/nats/${name}.ts`),
      "--bundle",
      "--platform=node",
      "--format=esm",
      ...externals.map((e) => `--external:${e}`),
      `--outfile=${out}`,
    ],
    { stdio: "inherit" },
  );
  if (build.status !== 0) throw new Error("esbuild failed");
  return out;
}

function fmt(n: number): string {
  return `${n.toFixed(1).padStart(5)}%`;
}
