/** @module Replaying the retained events of some types (read-model rebuilds): one ordered consumer per type. */
import { type EventEnvelope, type EventHistory, FlotillaError, Headers, type PositionedEvent } from "@flotilla/core";
import {
  DeliverPolicy,
  JetStreamApiCodes,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamInfo,
} from "@nats-io/jetstream";
import { decodeEvent, headersOf } from "./event-messages.js";
import { orUnavailable } from "./rpc-client.js";
import { isApiError } from "./streams.js";
import { eventStream, eventStreamSubjects, eventSubject, isSubjectSafe, serviceOf } from "./subjects.js";

/** One stream's part of a replay: the requested types it holds and how far to read (its last sequence at the call). */
interface StreamPlan {
  readonly stream: string;
  readonly lastSeq: number;
  readonly types: readonly string[];
  /** Events per fetch, so that one brings about `FETCH_BYTES`. */
  readonly batch: number;
  /** Events of the types in the stream at the call (retry copies included). */
  readonly count: number;
}

/** Events per fetch at most: a round trip per batch is noise next to decoding them. */
const MAX_BATCH = 512;
/** What one fetch should bring, judged by the stream's average message size (nats.js cannot bound both). */
const FETCH_BYTES = 8 * 1024 * 1024;
/** A fetch that brings nothing for this long means the events it expected are gone (aged out, purged). */
const FETCH_EXPIRES_MS = 5_000;

/**
 * The retained events of `types`, stream after stream (in the order `types` first names each service); within
 * one stream oldest first (by stream sequence, the types merged), up to the stream's last sequence when
 * this was called. `total` counts those events by subject at that moment (stream info with
 * `subjects_filter`), so no consumer exists until the iteration starts. Each iteration replays afresh.
 */
export async function openHistory(
  js: JetStreamClient,
  jsm: JetStreamManager,
  types: readonly string[],
): Promise<EventHistory> {
  const plans = await plansOf(jsm, types);
  const total = plans.reduce((sum, p) => sum + p.count, 0);
  return {
    total,
    [Symbol.asyncIterator]: () => eventsOf(replay(js, plans, undefined)),
  };
}

/**
 * The retained events of `types` stored at `since` (epoch ms) or later, each with its position (the
 * stream and its sequence), in the order of `openHistory`; each reader starts at that time in its stream.
 */
export async function openRecent(
  js: JetStreamClient,
  jsm: JetStreamManager,
  types: readonly string[],
  since: number,
): Promise<AsyncIterable<PositionedEvent>> {
  const plans = await plansOf(jsm, types);
  return { [Symbol.asyncIterator]: () => replay(js, plans, since) };
}

async function plansOf(jsm: JetStreamManager, types: readonly string[]): Promise<StreamPlan[]> {
  const byService = new Map<string, string[]>();
  for (const type of new Set(types)) {
    if (!isSubjectSafe(type) || !type.includes(".")) {
      throw new FlotillaError("INVALID_ARGUMENT", `"${type}" is not an event type (service.EventName)`);
    }
    const service = serviceOf(type);
    byService.set(service, [...(byService.get(service) ?? []), type]);
  }
  const planned = await Promise.all([...byService].map(([service, ofService]) => plan(jsm, service, ofService)));
  return planned.filter((p) => p !== undefined);
}

async function* eventsOf(positioned: AsyncGenerator<PositionedEvent>): AsyncGenerator<EventEnvelope> {
  for await (const { event } of positioned) yield event;
}

/** The stream's last sequence and how many events of the types it holds; nothing for a missing stream. */
async function plan(jsm: JetStreamManager, service: string, types: readonly string[]): Promise<StreamPlan | undefined> {
  const stream = eventStream(service);
  const [only] = types;
  const filter = types.length === 1 && only !== undefined ? eventSubject(only) : eventStreamSubjects(service);
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(stream, { subjects_filter: filter });
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.StreamNotFound)) return undefined; // the service never emitted
    throw err;
  }
  const subjects = info.state.subjects ?? {};
  const present = types.filter((type) => (subjects[eventSubject(type)] ?? 0) > 0);
  if (present.length === 0) return undefined;
  const count = present.reduce((sum, type) => sum + (subjects[eventSubject(type)] ?? 0), 0);
  const average = info.state.bytes / Math.max(1, info.state.messages);
  const batch = Math.max(1, Math.min(MAX_BATCH, Math.floor(FETCH_BYTES / Math.max(1, average))));
  return { stream, lastSeq: info.state.last_seq, types: present, batch, count };
}

async function* replay(
  js: JetStreamClient,
  plans: readonly StreamPlan[],
  since: number | undefined,
): AsyncGenerator<PositionedEvent> {
  for (const plan of plans) {
    const { types } = plan;
    const messages = merge(types.map((type) => read(js, plan, type, since)));
    try {
      for (;;) {
        const next = await messages.next().catch(orUnavailable(`read the history of ${types.join(", ")}`));
        if (next.done) break;
        const msg = next.value;
        const headers = headersOf(msg);
        // A dead letter retried for one group repeats an event already in the history.
        if (headers.get(Headers.retryGroup)) continue;
        let event: EventEnvelope;
        try {
          event = decodeEvent(msg.subject, headers, msg.data);
        } catch {
          continue; // not an event: live consumers dead-letter it, so no read model ever saw it
        }
        yield { event, position: { stream: plan.stream, seq: msg.seq } };
      }
    } finally {
      // Also when the caller leaves early: closing the readers deletes their consumers.
      await messages.return(undefined);
    }
  }
}

/**
 * One type's events up to `lastSeq` (from those stored at `since` on, when given), through an ordered
 * consumer (ephemeral, in memory, no acks, recreated by nats.js from its last position should it be
 * lost), deleted when the read ends.
 */
async function* read(
  js: JetStreamClient,
  { stream, lastSeq, batch }: StreamPlan,
  type: string,
  since: number | undefined,
): AsyncGenerator<JsMsg> {
  const consumer = await js.consumers.get(stream, {
    filter_subjects: eventSubject(type),
    ...(since === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(since).toISOString() }),
  });
  try {
    let remaining = (await consumer.info(true)).num_pending;
    while (remaining > 0) {
      const messages = await consumer.fetch({ max_messages: Math.min(remaining, batch), expires: FETCH_EXPIRES_MS });
      let got = 0;
      for await (const msg of messages) {
        got++;
        if (msg.seq > lastSeq) return; // published after the call
        remaining = Math.min(remaining - 1, msg.info.pending);
        yield msg;
        if (remaining <= 0) break;
      }
      if (got === 0) return;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

/** Several readers of one stream merged by stream sequence: the stream's own order. */
async function* merge(readers: AsyncGenerator<JsMsg>[]): AsyncGenerator<JsMsg> {
  try {
    const heads = await Promise.all(readers.map((r) => r.next()));
    for (;;) {
      let next: JsMsg | undefined;
      let at = -1;
      heads.forEach((head, i) => {
        if (!head.done && (next === undefined || head.value.seq < next.seq)) {
          next = head.value;
          at = i;
        }
      });
      const reader = readers[at];
      if (next === undefined || reader === undefined) return;
      yield next;
      heads[at] = await reader.next();
    }
  } finally {
    await Promise.all(readers.map((r) => r.return(undefined)));
  }
}
