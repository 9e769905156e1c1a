/**
 * @module One side of a commit-to-handler latency case, in its own process.
 *
 * `--role emitter`: a host whose source service inserts a row and emits one event in a transaction,
 * stamping the instant the transaction committed. Prints `{ready}`, waits for `{go}`, does so at
 * `--rate` per second (open loop, by absolute schedule) for `--warmup` then `--time` ms, printing
 * `{measuring}` when the measured events begin, waits until its outbox is empty and prints
 * `{emitted}` with every event's commit instant.
 *
 * `--role consumer`: a host whose sink service handles those events (exactly once: in a transaction
 * with the inbox record), stamping the instant each handler starts. Prints `{ready}`; told
 * `{await: n}` it prints `{handled}` once n events were handled (or after 60 s).
 *
 * `--role embedded`: both services in one host on the in-process transport with the SQLite event
 * journal and SQLite databases in a temp dir; prints what both sides print.
 *
 * Instants are CLOCK_MONOTONIC (`process.hrtime`), one clock for every process of the machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createHost, type Host, MemoryTransport, type ResourceProvider } from "@flotilla/core";
import { eventJournalFile, postgresDatabases, sqliteDatabases, sqliteEventJournal } from "@flotilla/data";
import { natsTransport } from "@flotilla/nats";
import { destination, pino } from "pino";
import { receive, reply, untilStopped } from "../nats/io.js";
import { percentile } from "../nats/measure.js";
import { flushStdout } from "./flush.js";
import { now, paced } from "./pacing.js";
import { sinkService, source } from "./services.js";

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    /** Service names get this suffix, so each case has fresh databases and streams. */
    tag: { type: "string", default: String(process.pid) },
    rate: { type: "string", default: "1000" },
    time: { type: "string", default: "10000" },
    warmup: { type: "string", default: "2000" },
    nats: { type: "string", default: "" },
    /** PostgreSQL URL with `{service}` as the database name. */
    pg: { type: "string", default: "" },
  },
});
const role = values.role;
if (role !== "emitter" && role !== "consumer" && role !== "embedded") {
  console.error("usage: latency-worker.ts --role embedded|emitter|consumer [--nats URL --pg URL]");
  process.exit(2);
}
if (role !== "embedded" && (values.nats === "" || values.pg === "")) {
  console.error("--role emitter|consumer need --nats nats://… and --pg postgres://…/{service}");
  process.exit(2);
}

const rate = Number(values.rate);
const warm = Math.round((rate * Number(values.warmup)) / 1000);
const count = warm + Math.round((rate * Number(values.time)) / 1000);
const names = { source: `src-${values.tag}`, sink: `sink-${values.tag}` };
// Warnings (a relay retrying, a handler failing) to stderr: stdout carries the JSON lines.
const logger = pino({ level: "warn" }, destination(2));

const commitNs = new Float64Array(count).fill(Number.NaN);
const handledNs = new Float64Array(count).fill(Number.NaN);
let handled = 0;
let duplicates = 0;
let waiting: { n: number; resolve: () => void } | undefined;

const src = source(names.source, (id) => {
  commitNs[id] = now();
});
const onHandle = (id: number) => {
  const t = now();
  if (!Number.isNaN(handledNs[id] as number)) {
    duplicates++;
    return;
  }
  handledNs[id] = t;
  handled++;
  if (waiting !== undefined && handled >= waiting.n) waiting.resolve();
};

const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-outbox-"));
let host: Host | undefined;
let transport: MemoryTransport | undefined;
try {
  if (role === "embedded") {
    transport = new MemoryTransport({ journal: sqliteEventJournal(eventJournalFile(dir)) });
    await transport.connect();
    host = await start([sqliteDatabases({ dataDir: dir })], transport, "both");
  } else {
    host = await start([postgresDatabases({ url: values.pg })], values.nats, role);
  }
  reply({ ready: true });
  if (role === "consumer") {
    const msg = await receive();
    if (msg !== undefined) reply({ handled: await untilHandled(Number(msg.await)) });
  } else {
    const go = await receive();
    if (go !== undefined) {
      const emitted = await emit();
      const both = role === "embedded" ? { handled: await untilHandled(count) } : {};
      reply({ emitted, ...both });
      // Running until told to stop, so that the orchestrator can read this process's CPU time last.
      await untilStopped();
    }
  }
  await host.stop();
  host = undefined;
  await transport?.close();
  transport = undefined;
} finally {
  await host?.stop();
  await transport?.close();
  rmSync(dir, { recursive: true, force: true });
}
await flushStdout();
process.exit(0);

async function start(
  resources: ResourceProvider[],
  via: MemoryTransport | string,
  sides: "emitter" | "consumer" | "both",
): Promise<Host> {
  const services = [];
  if (sides !== "consumer") services.push(src.definition);
  if (sides !== "emitter") services.push(sinkService(names.sink, src.contract, onHandle));
  const h = createHost({ services, transport: via, transports: { nats: natsTransport }, resources, logger });
  await h.start();
  return h;
}

async function emit() {
  let measuring = false;
  const cpu0 = process.cpuUsage();
  let cpuAtMeasure = cpu0;
  const pace = await paced(rate, count, (i) => {
    if (i === warm && !measuring) {
      measuring = true;
      cpuAtMeasure = process.cpuUsage();
      reply({ measuring: true });
    }
    return src.place(i, i < warm);
  });
  const cpuAfter = process.cpuUsage();
  // The relay is done once the outbox is empty: every event was confirmed by the transport.
  const deadline = Date.now() + 60_000;
  let left = await src.outboxRows();
  while (left > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    left = await src.outboxRows();
  }
  const late = pace.lateNs.subarray(warm).sort();
  return {
    count,
    warm,
    startNs: pace.startNs,
    intervalNs: pace.intervalNs,
    errors: pace.errors,
    firstError: pace.firstError,
    outboxLeft: left,
    lateP50Ns: percentile(late, 0.5),
    lateP99Ns: percentile(late, 0.99),
    lateMaxNs: late[late.length - 1] ?? Number.NaN,
    /** Process CPU (µs) during the measured events' emission. */
    cpuMeasuredUs: cpuAfter.user + cpuAfter.system - (cpuAtMeasure.user + cpuAtMeasure.system),
    commitNs: Array.from(commitNs),
  };
}

async function untilHandled(n: number) {
  if (handled < n) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => (waiting = { n, resolve })),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 60_000))),
    ]);
    clearTimeout(timer);
    waiting = undefined;
  }
  return { handled, duplicates, handledNs: Array.from(handledNs) };
}
