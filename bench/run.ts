/**
 * @module Entry point of `npm run bench`: runs the in-process call benchmark and, behind `--suites`,
 * the distributed ones over a real nats-server (see bench/README.md for the cases and flags), and
 * prints Markdown tables with ratios.
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { CONFIGS, type Config, IMPLS, type Impl } from "./calls/cases.js";
import { goals, render, runSuite } from "./calls/suite.js";
import { EVENT_IMPLS, isEventImpl, RAW_FEATURES } from "./nats/event-cases.js";
import { eventGoals, renderEvents, runEventSuite } from "./nats/event-suite.js";
import { RPC_EXTRA_IMPLS, RPC_IMPLS, type RpcImpl } from "./nats/rpc-cases.js";
import { renderRpc, rpcGoals, runRpcSuite } from "./nats/rpc-suite.js";
import { startBenchServer } from "./nats/server.js";

const SUITES = ["calls", "rpc", "events"] as const;
type Suite = (typeof SUITES)[number];

const { values } = parseArgs({
  options: {
    time: { type: "string", default: "3000" },
    warmup: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "1,64" },
    configs: { type: "string", default: CONFIGS.join(",") },
    impls: { type: "string", default: IMPLS.join(",") },
    repeat: { type: "string", default: "1" },
    suites: { type: "string", default: "calls" },
    "rpc-impls": { type: "string", default: RPC_IMPLS.join(",") },
    "rpc-in-flight": { type: "string", default: "1,100" },
    "event-impls": { type: "string", default: EVENT_IMPLS.join(",") },
    "event-in-flight": { type: "string", default: "1,100" },
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(`npm run bench -- [flags]
  --time=MS          measured phase per case (default 3000; calls: the latency phase takes another half)
  --warmup=MS        warm-up per case (default 1000)
  --repeat=N         runs per case, interleaved; the best is reported (default 1)
  --quick            --time=1000 --warmup=300
  --json             print the raw results as JSON after the tables
  --suites=LIST      ${SUITES.join(",")} (default calls); rpc and events start a nats-server
calls (in-process action calls):
  --concurrency=LIST 1 = sequential awaited calls, N = batches of N concurrent calls (default 1,64)
  --configs=LIST     ${CONFIGS.join(",")} (default both)
  --impls=LIST       ${IMPLS.join(",")} (default all)
rpc (action calls over NATS, server and client in separate processes):
  --rpc-impls=LIST   ${RPC_IMPLS.join(",")} (default), also ${RPC_EXTRA_IMPLS.join(",")}
  --rpc-in-flight=LIST  calls kept in flight: 1 = sequential (default 1,100)
events (durable events over JetStream, producer and consumer in separate processes):
  --event-impls=LIST ${EVENT_IMPLS.join(",")} (default both), or raw with Flotilla's choices added to
                     see what each costs, e.g. raw+ackack (${Object.keys(RAW_FEATURES).join(", ")})
  --event-in-flight=LIST  publishes awaiting their PubAck at once: 1 = each awaited (default 1,100)`);
  process.exit(0);
}

const list = <T extends string>(value: string, allowed: readonly T[], what: string): T[] => {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`unknown ${what} "${item}" (known: ${allowed.join(", ")})`);
  }
  return items as T[];
};

const eventImpls = (value: string): string[] => {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!isEventImpl(item)) throw new Error(`unknown event impl "${item}" (known: raw, flotilla, raw+FEATURE…)`);
  }
  return items;
};

const suites = list<Suite>(values.suites, SUITES, "suite");
const timeMs = values.quick ? 1000 : Number(values.time);
const warmupMs = values.quick ? 300 : Number(values.warmup);
const repeat = Math.max(1, Number(values.repeat));
const numbers = (value: string) =>
  value
    .split(",")
    .map(Number)
    .filter((n) => n >= 1);
const json: Record<string, unknown> = {};

console.log(`node ${process.version}, ${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}`);
console.log(`${timeMs} ms per case after ${warmupMs} ms warm-up, best of ${repeat}, one child process per case side\n`);

if (suites.includes("calls")) {
  const options = {
    impls: list<Impl>(values.impls, IMPLS, "impl"),
    configs: list<Config>(values.configs, CONFIGS, "config"),
    concurrencies: numbers(values.concurrency),
    timeMs,
    warmupMs,
    repeat,
  };
  console.log("## In-process action calls\n");
  const results = await runSuite(options, (line) => console.error(line));
  console.log(render(results));
  for (const line of goals(results)) console.log(line);
  console.log("");
  json.calls = results;
}

if (suites.includes("rpc") || suites.includes("events")) {
  const server = await startBenchServer();
  console.log(`${server.version}, JetStream on, ${server.url} (file store in ${server.handle.storeDir})\n`);
  try {
    if (suites.includes("rpc")) {
      console.log("## Action calls over NATS\n");
      const results = await runRpcSuite(
        {
          impls: list<RpcImpl>(values["rpc-impls"], [...RPC_IMPLS, ...RPC_EXTRA_IMPLS], "rpc impl"),
          inFlight: numbers(values["rpc-in-flight"]),
          timeMs,
          warmupMs,
          repeat,
          url: server.url,
          natsPid: server.handle.pid,
        },
        (line) => console.error(line),
      );
      console.log(renderRpc(results));
      for (const line of rpcGoals(results)) console.log(line);
      console.log("");
      json.rpc = results;
    }
    if (suites.includes("events")) {
      console.log("## Durable events over JetStream\n");
      const results = await runEventSuite(
        {
          impls: eventImpls(values["event-impls"]),
          inFlight: numbers(values["event-in-flight"]),
          timeMs,
          warmupMs,
          repeat,
          url: server.url,
          natsPid: server.handle.pid,
          reset: () => server.reset(),
        },
        (line) => console.error(line),
      );
      console.log(renderEvents(results));
      for (const line of eventGoals(results)) console.log(line);
      console.log("");
      json.events = results;
    }
  } finally {
    await server.stop();
  }
}

if (values.json) console.log(JSON.stringify(json, null, 2));
