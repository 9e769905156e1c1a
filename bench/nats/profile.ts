import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bundleWorker, percent } from "../lib/bundle.js";
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
const worker = values.bundle
  ? bundleWorker(`nats/${values.suite === "rpc" ? "rpc-worker" : "event-worker"}`, dir)
  : undefined;
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
  for (const r of summary.functions.slice(0, top)) console.log(percent(r.selfPct), percent(r.totalPct), r.name);
  console.log("\nby file (self% / total%):");
  for (const r of summary.files.slice(0, 25)) console.log(percent(r.selfPct), percent(r.totalPct), r.name);
}
