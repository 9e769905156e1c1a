/**
 * @module The peers of the durable-events benchmark, each a producer and a consumer (separate
 * processes, a connection each): raw JetStream and Flotilla's NATS transport. Both keep events in a
 * file-backed limits stream with the same settings, and both consumers are durable pull consumers
 * with explicit acks.
 */

import { randomUUID } from "node:crypto";
import { type Context, createHost, createLogger, defineContract, defineService, event } from "@flotilla/core";
import { natsTransport } from "@flotilla/nats";
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { connect, nanos, headers as natsHeaders } from "@nats-io/transport-node";
import { z } from "zod";

export const EVENT_IMPLS = ["raw", "flotilla"] as const;
/**
 * `raw`, `flotilla`, or `raw` with some of Flotilla's choices added one by one, to see what each
 * costs: `raw+msgid+headers+ackack+traces+fetch` (see RAW_FEATURES).
 */
export type EventImpl = string;

export const RAW_FEATURES = {
  /** Publish with a `Nats-Msg-Id` (a new UUID per event), so the stream deduplicates. */
  msgid: "msgID",
  /** Publish with the headers a Flotilla event has besides its msgID (`ce-time`, `traceparent`); the consumer reads them. */
  headers: "Flotilla's headers",
  /** Acknowledge with `ackAck()` (a request the server confirms) instead of `ack()`. */
  ackack: "ackAck()",
  /** Connect without `noAsyncTraces: true` (the client library's default, as Flotilla's transport connects). */
  traces: "async traces on",
  /** Pull with `fetch()` batches in a loop instead of `consume()`. */
  fetch: "fetch() loop",
} as const;
type Feature = keyof typeof RAW_FEATURES;

/** Whether `impl` names a peer, e.g. `raw+ackack`. */
export function isEventImpl(impl: string): boolean {
  if (impl === "flotilla" || impl === "raw") return true;
  const [base, ...features] = impl.split("+");
  return base === "raw" && features.every((f) => f in RAW_FEATURES);
}

export function eventLabel(impl: EventImpl): string {
  if (impl === "raw") return "raw JetStream (js.publish + consume/ack)";
  if (impl === "flotilla") return "Flotilla ctx.emit → subscription";
  const features = impl.split("+").slice(1) as Feature[];
  return `raw JetStream + ${features.map((f) => RAW_FEATURES[f]).join(" + ")}`;
}

function features(impl: EventImpl): Set<Feature> {
  return new Set(impl.split("+").slice(1) as Feature[]);
}

/** What every event carries: the small record of the RPC benchmark, the publish time, and warm-up or not. */
export interface Tick {
  id: number;
  name: string;
  /** process.hrtime (CLOCK_MONOTONIC, shared by all processes of the machine) at publish, in ns. */
  t: number;
  /** True for warm-up events. */
  w: boolean;
}

export interface Producer {
  publish(tick: Tick): Promise<unknown>;
  close(): Promise<void>;
}

export interface Consumer {
  close(): Promise<void>;
}

/** Events a consumer may hold unacknowledged or running at once, the same for both peers. */
export const CONSUMER_IN_FLIGHT = 100;

const RAW_STREAM = "BENCH_RAW";
const RAW_SUBJECT = "bench.raw.Ticked";
const RAW_DURABLE = "raw_ticks";

export function startProducer(impl: EventImpl, url: string): Promise<Producer> {
  return impl === "flotilla" ? flotillaProducer(url) : rawProducer(url, features(impl));
}

export function startConsumer(impl: EventImpl, url: string, onTick: (tick: Tick) => void): Promise<Consumer> {
  return impl === "flotilla" ? flotillaConsumer(url, onTick) : rawConsumer(url, onTick, features(impl));
}

// Raw JetStream: the client library's own calls, nothing around them.

async function rawProducer(url: string, f: Set<Feature>): Promise<Producer> {
  const nc = await connect({ servers: url, name: "bench-raw-producer", noAsyncTraces: !f.has("traces") });
  const js = jetstream(nc);
  const encoder = new TextEncoder();
  const traceparent = `00-${randomUUID().replaceAll("-", "")}-${randomUUID().replaceAll("-", "").slice(0, 16)}-01`;
  // What a Flotilla event carries besides its Nats-Msg-Id (packages/nats/src/event-messages.ts).
  const withHeaders = () => {
    const h = natsHeaders();
    h.set("ce-time", new Date().toISOString());
    h.set("traceparent", traceparent);
    return h;
  };
  const plain = f.size === 0 || (f.size === 1 && f.has("traces"));
  return {
    publish(tick) {
      const data = encoder.encode(JSON.stringify(tick));
      if (plain) return js.publish(RAW_SUBJECT, data);
      const id = randomUUID();
      return js.publish(RAW_SUBJECT, data, {
        ...(f.has("msgid") ? { msgID: id } : {}),
        ...(f.has("headers") ? { headers: withHeaders() } : {}),
      });
    },
    close: () => nc.drain(),
  };
}

async function rawConsumer(url: string, onTick: (tick: Tick) => void, f: Set<Feature>): Promise<Consumer> {
  const nc = await connect({ servers: url, name: "bench-raw-consumer", noAsyncTraces: !f.has("traces") });
  const jsm = await jetstreamManager(nc);
  // The settings Flotilla gives its event streams and consumer groups (packages/nats/src/streams.ts).
  await jsm.streams.add({
    name: RAW_STREAM,
    subjects: ["bench.raw.>"],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    max_age: nanos(7 * 24 * 3_600_000),
    duplicate_window: nanos(2 * 60_000),
  });
  await jsm.consumers.add(RAW_STREAM, {
    durable_name: RAW_DURABLE,
    filter_subject: RAW_SUBJECT,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    ack_wait: nanos(30_000),
    max_ack_pending: 1_000,
    max_deliver: -1,
  });
  const consumer = await jetstream(nc).consumers.get(RAW_STREAM, RAW_DURABLE);
  const handle = (m: JsMsg) => {
    if (f.has("headers") && m.headers?.get("ce-time") === "") throw new Error("event without ce-time");
    onTick(m.json<Tick>());
    if (f.has("ackack")) m.ackAck().catch(() => undefined);
    else m.ack();
  };
  if (f.has("fetch")) {
    let closed = false;
    let batch: ConsumerMessages | undefined;
    const done = (async () => {
      while (!closed) {
        batch = await consumer.fetch({ max_messages: CONSUMER_IN_FLIGHT, expires: 5_000 });
        for await (const m of batch) handle(m);
      }
    })();
    return {
      async close() {
        closed = true;
        await batch?.close();
        await done;
        await nc.drain();
      },
    };
  }
  const messages = await consumer.consume({ max_messages: CONSUMER_IN_FLIGHT });
  const done = (async () => {
    for await (const m of messages) handle(m);
  })();
  return {
    async close() {
      await messages.close();
      await done;
      await nc.drain();
    },
  };
}

// Flotilla: a service emits its own event with ctx.emit; another service's subscription handles it.

const tickSchema = z.object({ id: z.number().int(), name: z.string().max(64), t: z.number(), w: z.boolean() });

const benchEvents = defineContract({ service: "bench", events: { Ticked: event({ schema: tickSchema }) } });
const sink = defineContract({ service: "sink" });

const silent = () => createLogger({ level: "silent" });

async function flotillaProducer(url: string): Promise<Producer> {
  // A service emits only its own events, from a context of its own; the start hook's context is one
  // (the same path as an action or handler emitting: ctx.emit → host.emit → transport.publish).
  let ctx: Context | undefined;
  const service = defineService(benchEvents, {
    actions: {},
    start: async (c) => {
      ctx = c;
    },
  });
  const host = createHost({
    services: [service],
    transport: url,
    transports: { nats: natsTransport },
    logger: silent(),
  });
  await host.start();
  const emitter = ctx as Context;
  return { publish: (tick) => emitter.emit(benchEvents.Ticked, tick), close: () => host.stop() };
}

async function flotillaConsumer(url: string, onTick: (tick: Tick) => void): Promise<Consumer> {
  const service = defineService(sink, {
    actions: {},
    subscriptions: {
      ticks: {
        event: benchEvents.Ticked,
        maxInFlight: CONSUMER_IN_FLIGHT,
        handle: async (tick) => onTick(tick),
      },
    },
  });
  const host = createHost({
    services: [service],
    transport: url,
    transports: { nats: natsTransport },
    logger: silent(),
  });
  await host.start();
  return { close: () => host.stop() };
}
