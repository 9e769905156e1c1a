/**
 * @module The durable-events benchmark: per case a consumer process and a producer process, each with
 * its own connection to the run's nats-server; the server's streams are deleted after every case.
 */
import { fileURLToPath } from "node:url";
import { ns, ops, ratio, table } from "../lib/report.js";
import { Child } from "./child.js";
import { cpuMicros, snapshot } from "./cpu.js";
import { type EventImpl, eventLabel } from "./event-cases.js";
import { us } from "./rpc-suite.js";

export interface EventSuiteOptions {
  impls: readonly EventImpl[];
  /** Publishes awaiting their PubAck at once, one case per value: 1 = each awaited before the next. */
  inFlight: readonly number[];
  timeMs: number;
  warmupMs: number;
  repeat: number;
  url: string;
  /** The worker script to run (profile.ts passes a bundle of it, for line-level profiles). */
  worker?: string;
  /** The nats-server's pid, to read its CPU time. */
  natsPid?: number;
  /** Called after each case: deletes the streams so the next case starts from an empty server. */
  reset: () => Promise<void>;
  producerFlags?: readonly string[];
  consumerFlags?: readonly string[];
}

export interface EventResult {
  impl: EventImpl;
  inFlight: number;
  /** Measured events over the time from the first measured publish to the last handled. */
  eventsPerSec: number;
  /** Measured events over the producer's measured phase (PubAcks per second). */
  publishPerSec: number;
  /** Publish → handler, across processes. */
  p50Ns: number;
  p99Ns: number;
  ackP50Ns: number;
  ackP99Ns: number;
  published: number;
  handled: number;
  duplicates: number;
  warmup: number;
  /** CPU time per measured event (µs) of the producing process, the consuming one and nats-server. */
  cpuUs: Record<"producer" | "consumer" | "nats", number>;
}

const worker = fileURLToPath(new URL("./event-worker.ts", import.meta.url));

export async function runEventSuite(o: EventSuiteOptions, log: (line: string) => void): Promise<EventResult[]> {
  const best = new Map<string, EventResult>();
  for (let round = 1; round <= o.repeat; round++) {
    for (const inFlight of o.inFlight) {
      for (const impl of o.impls) {
        let r: EventResult;
        try {
          r = await runCase(impl, inFlight, o);
        } finally {
          await o.reset();
        }
        const key = `${impl}/${inFlight}`;
        log(
          `  round ${round}/${o.repeat} events ${key.padEnd(12)} ${ops(r.eventsPerSec).padStart(7)} events/s  publish ${ops(r.publishPerSec)}/s  p50 ${ns(r.p50Ns)}  p99 ${ns(r.p99Ns)}  CPU/event ${us(r.cpuUs.producer)} + ${us(r.cpuUs.consumer)} + ${us(r.cpuUs.nats)}`,
        );
        const prev = best.get(key);
        if (prev === undefined || r.eventsPerSec > prev.eventsPerSec) best.set(key, r);
      }
    }
  }
  return [...best.values()];
}

async function runCase(impl: EventImpl, inFlight: number, o: EventSuiteOptions): Promise<EventResult> {
  const common = ["--impl", impl, "--url", o.url, "--in-flight", String(inFlight)];
  const consumer = new Child(
    `event consumer ${impl}`,
    o.worker ?? worker,
    ["--role", "consumer", ...common],
    o.consumerFlags,
  );
  let producer: Child | undefined;
  try {
    await consumer.expect("ready", 60_000);
    producer = new Child(
      `event producer ${impl}`,
      o.worker ?? worker,
      ["--role", "producer", ...common, "--time", String(o.timeMs), "--warmup", String(o.warmupMs)],
      o.producerFlags,
    );
    const { warmed } = (await producer.expect("warmed", o.warmupMs + 60_000)) as { warmed: number };
    // Measure from a quiet start: the consumer has handled every warm-up event.
    consumer.send({ await: warmed, phase: "warm" });
    const { caughtUp } = (await consumer.expect("caughtUp", 120_000)) as { caughtUp: boolean };
    if (!caughtUp) throw new Error(`${impl}: the consumer did not handle the ${warmed} warm-up events`);
    const pids = { producer: producer.pid, consumer: consumer.pid, nats: o.natsPid };
    const before = snapshot(pids);
    producer.send({ go: true });
    const { published } = (await producer.expect("published", o.timeMs + 60_000)) as {
      published: {
        count: number;
        firstPublishNs: number;
        publishPerSec: number;
        ackP50Ns: number;
        ackP99Ns: number;
      };
    };
    const producerCpu = cpuMicros(pids.producer);
    consumer.send({ await: published.count, phase: "measured" });
    const { result } = (await consumer.expect("result", 120_000)) as {
      result: {
        handled: number;
        complete: boolean;
        duplicates: number;
        lastHandledNs: number;
        p50Ns: number;
        p99Ns: number;
      };
    };
    const after = snapshot(pids);
    const per = (k: keyof typeof pids, end: number) => (end - (before[k] ?? Number.NaN)) / published.count;
    const cpuUs = {
      producer: per("producer", producerCpu),
      consumer: per("consumer", after.consumer ?? Number.NaN),
      nats: per("nats", after.nats ?? Number.NaN),
    };
    if (!result.complete) log(`${impl}: only ${result.handled} of ${published.count} events were handled`);
    return {
      impl,
      inFlight,
      eventsPerSec: (result.handled / (result.lastHandledNs - published.firstPublishNs)) * 1e9,
      publishPerSec: published.publishPerSec,
      p50Ns: result.p50Ns,
      p99Ns: result.p99Ns,
      ackP50Ns: published.ackP50Ns,
      ackP99Ns: published.ackP99Ns,
      published: published.count,
      handled: result.handled,
      duplicates: result.duplicates,
      warmup: warmed,
      cpuUs,
    };
  } finally {
    await producer?.stop();
    await consumer.stop();
  }
}

function log(line: string): void {
  console.error(line);
}

export function renderEvents(all: readonly EventResult[]): string {
  const out: string[] = [];
  for (const inFlight of [...new Set(all.map((r) => r.inFlight))]) {
    const results = all.filter((r) => r.inFlight === inFlight);
    out.push(...renderOne(results, inFlight));
  }
  return out.join("\n");
}

function renderOne(results: readonly EventResult[], inFlight: number): string[] {
  const raw = results.find((r) => r.impl === "raw");
  const out: string[] = [];
  const mode = inFlight === 1 ? "1 publish in flight (each awaited)" : `${inFlight} publishes in flight`;
  out.push(`### Durable events over JetStream — ${mode}\n`);
  out.push(
    table(
      [
        "case",
        "events/s",
        "vs raw",
        "publish/s",
        "p50 publish→handler",
        "p99",
        "PubAck p50",
        "PubAck p99",
        "CPU/event producer",
        "consumer",
        "nats-server",
        "sum",
      ],
      [...new Set(results.map((r) => r.impl))].flatMap((impl) => {
        const r = results.find((x) => x.impl === impl);
        if (r === undefined) return [];
        return [
          [
            eventLabel(impl),
            ops(r.eventsPerSec),
            ratio(r.eventsPerSec, raw?.eventsPerSec),
            ops(r.publishPerSec),
            ns(r.p50Ns),
            ns(r.p99Ns),
            ns(r.ackP50Ns),
            ns(r.ackP99Ns),
            us(r.cpuUs.producer),
            us(r.cpuUs.consumer),
            us(r.cpuUs.nats),
            us(r.cpuUs.producer + r.cpuUs.consumer + r.cpuUs.nats),
          ],
        ];
      }),
    ),
  );
  out.push("");
  out.push(
    `Work done (measured events published / handled once / handled again; warm-up events): ${results
      .map(
        (r) =>
          `${r.impl} ${r.published}/${r.handled}/${r.duplicates}${r.published === r.handled ? "" : " INCOMPLETE"}; ${r.warmup}`,
      )
      .join(", ")}`,
  );
  out.push("");
  return out;
}

/** Goal: Flotilla publish → handle throughput ≥ 0.7× raw JetStream (with many publishes in flight). */
export function eventGoals(results: readonly EventResult[]): string[] {
  const lines: string[] = [];
  for (const f of results.filter((r) => r.impl === "flotilla" && r.inFlight > 1)) {
    const r = results.find((x) => x.impl === "raw" && x.inFlight === f.inFlight);
    if (r === undefined) continue;
    const x = f.eventsPerSec / r.eventsPerSec;
    lines.push(
      `Flotilla durable events, ${f.inFlight} in flight: ${x.toFixed(2)}× raw JetStream events/s (goal ≥ 0.7×) ${x >= 0.7 ? "met" : "MISSED"}`,
    );
  }
  return lines;
}
