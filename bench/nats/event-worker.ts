/**
 * @module One side of one case of the durable-events benchmark, in its own process.
 *
 * `--role consumer`: creates its durable consumer, prints `{ready}`, then handles events. Told
 * `{await: n, phase: "warm"}` it prints `{caughtUp}` once n warm-up events were handled; told
 * `{await: n, phase: "measured"}` it prints `{result}` once n measured events were handled (or after
 * `--drain-timeout` ms), then stops.
 *
 * `--role producer`: publishes warm-up events `--in-flight` at a time for `--warmup` ms, prints
 * `{warmed: n}`, waits for `{go}`, publishes measured events for `--time` ms and prints `{published}`.
 *
 * Each event carries its publish time from `process.hrtime` (CLOCK_MONOTONIC, one clock for every
 * process of the machine), so the consumer measures publish → handler latency across processes.
 */
import { parseArgs } from "node:util";
import { type EventImpl, isEventImpl, startConsumer, startProducer, type Tick } from "./event-cases.js";
import { receive, reply } from "./io.js";
import { MAX_SAMPLES, percentile, runWindow } from "./measure.js";

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    impl: { type: "string" },
    url: { type: "string" },
    "in-flight": { type: "string", default: "100" },
    time: { type: "string", default: "3000" },
    warmup: { type: "string", default: "1000" },
    "drain-timeout": { type: "string", default: "60000" },
  },
});
const impl = values.impl as EventImpl;
const url = values.url as string;
if (!isEventImpl(impl) || !url || (values.role !== "consumer" && values.role !== "producer")) {
  console.error(`usage: event-worker.ts --role consumer|producer --impl raw|flotilla|raw+FEATURE… --url nats://…`);
  process.exit(2);
}

const now = (): number => Number(process.hrtime.bigint());

if (values.role === "consumer") await consume();
else await produce();
process.exit(0);

async function consume(): Promise<void> {
  let warm = 0;
  let measured = 0;
  let duplicates = 0;
  let firstHandledNs = 0;
  let lastHandledNs = 0;
  let seen = new Uint8Array(1 << 20);
  const latencies = new Float64Array(MAX_SAMPLES);
  let goal: { phase: string; n: number; resolve: () => void } | undefined;
  const check = () => {
    if (goal !== undefined && (goal.phase === "warm" ? warm : measured) >= goal.n) {
      const g = goal;
      goal = undefined;
      g.resolve();
    }
  };
  const consumer = await startConsumer(impl, url, (tick: Tick) => {
    const t = now();
    if (tick.w) warm++;
    else {
      if (tick.id >= seen.length) {
        const grown = new Uint8Array(Math.max(seen.length * 2, tick.id + 1));
        grown.set(seen);
        seen = grown;
      }
      if (seen[tick.id] === 1) duplicates++;
      else {
        seen[tick.id] = 1;
        if (measured < MAX_SAMPLES) latencies[measured] = t - tick.t;
        if (measured === 0) firstHandledNs = t;
        lastHandledNs = t;
        measured++;
      }
    }
    if (goal !== undefined) check();
  });
  reply({ ready: true });
  const timeoutMs = Number(values["drain-timeout"]);
  for (let msg = await receive(); msg !== undefined; msg = await receive()) {
    const phase = String(msg.phase);
    const n = Number(msg.await);
    let timer: NodeJS.Timeout | undefined;
    const reached = await Promise.race([
      new Promise<boolean>((resolve) => {
        goal = { phase, n, resolve: () => resolve(true) };
        check();
      }),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    goal = undefined;
    if (phase === "warm") {
      reply({ caughtUp: reached, warm });
      continue;
    }
    const sorted = latencies.subarray(0, Math.min(measured, MAX_SAMPLES)).sort();
    const result = {
      handled: measured,
      expected: n,
      complete: reached,
      duplicates,
      firstHandledNs,
      lastHandledNs,
      p50Ns: percentile(sorted, 0.5),
      p99Ns: percentile(sorted, 0.99),
    };
    await consumer.close();
    reply({ result });
    return;
  }
  await consumer.close();
}

async function produce(): Promise<void> {
  const producer = await startProducer(impl, url);
  const inFlight = Number(values["in-flight"]);
  let warmSeq = 0;
  const warm = await runWindow(
    () => producer.publish({ id: warmSeq++, name: "kettle", t: now(), w: true }),
    inFlight,
    Number(values.warmup),
  );
  reply({ warmed: warm.ops });
  const go = await receive();
  if (go === undefined) {
    await producer.close();
    return;
  }
  let seq = 0;
  let firstPublishNs = 0;
  const samples = new Float64Array(MAX_SAMPLES);
  const run = await runWindow(
    () => {
      const t = now();
      if (seq === 0) firstPublishNs = t;
      return producer.publish({ id: seq++, name: "kettle", t, w: false });
    },
    inFlight,
    Number(values.time),
    samples,
  );
  const lastAckNs = now();
  const acks = samples.subarray(0, Math.min(run.ops, MAX_SAMPLES)).sort();
  reply({
    published: {
      count: run.ops,
      firstPublishNs,
      lastAckNs,
      publishPerSec: (run.ops / run.elapsedMs) * 1000,
      ackP50Ns: percentile(acks, 0.5) * 1e6,
      ackP99Ns: percentile(acks, 0.99) * 1e6,
    },
  });
  await producer.close();
}
