/** @module The dead-letter stream: events a group gave up on, with the error and the attempts. */
import type { DeadLetter, StoredDeadLetter } from "@flotilla/core";
import { encode } from "@flotilla/core/internal";
import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { MsgHdrsImpl, nanos } from "@nats-io/transport-node";
import { NatsHeaders } from "./headers.js";
import { isNoStream, type Streams } from "./streams.js";
import { DLQ_PREFIX, DLQ_STREAM, dlqSubject } from "./subjects.js";

/**
 * Stores a dead letter and resolves once JetStream acknowledged it, so the original can be
 * terminated safely. The body is the `DeadLetter` record as JSON; headers repeat group, attempts and
 * error code for tooling. `seq` (the original's stream sequence) makes retried writes deduplicate.
 */
export async function writeDeadLetter(
  js: JetStreamClient,
  streams: Streams,
  letter: DeadLetter,
  seq: number,
  limits: { maxPayload: number; timeoutMs: number },
): Promise<void> {
  const error = letter.error as { code?: string };
  const headers = MsgHdrsImpl.fromRecord({
    [NatsHeaders.dlqGroup]: [letter.group],
    [NatsHeaders.dlqAttempts]: [String(letter.attempts)],
    [NatsHeaders.error]: [String(error.code ?? "UNKNOWN")],
  });
  let data: Uint8Array;
  try {
    data = encode(letter, limits.maxPayload - 1024);
  } catch {
    // The event filled the message already: keep its identity and the error, drop its data.
    data = encode({ ...letter, event: { ...letter.event, data: null }, truncated: true }, limits.maxPayload - 1024);
  }
  for (let attempt = 1; ; attempt++) {
    await streams.deadLetters();
    try {
      await js.publish(dlqSubject(letter.group), data, {
        msgID: `${letter.group}:${letter.event.id}:${seq}`,
        headers,
        timeout: limits.timeoutMs,
      });
      return;
    } catch (err) {
      if (attempt > 1 || !isNoStream(err)) throw err;
      streams.forget(DLQ_STREAM);
    }
  }
}

/** A dead letter as stored: `truncated` when its event data did not fit and was dropped (it cannot be retried). */
export interface NatsDeadLetter extends StoredDeadLetter {
  readonly truncated?: true;
}

/** The letter stored at `seq` of the dead-letter stream; its id is that sequence. */
export function storedLetter(seq: number, body: DeadLetter & { truncated?: boolean }): NatsDeadLetter {
  const letter = {
    id: String(seq),
    event: body.event,
    group: body.group,
    attempts: body.attempts,
    error: body.error,
    failedAt: body.failedAt,
  };
  return body.truncated === true ? { ...letter, truncated: true } : letter;
}

/** Reads dead letters (of one group, or all), oldest first, through a short-lived consumer deleted afterwards. */
export async function readDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  streams: Streams,
  group?: string,
): Promise<NatsDeadLetter[]> {
  await streams.deadLetters();
  // Most reads find nothing: answer those without creating a consumer.
  if ((await jsm.streams.info(DLQ_STREAM)).state.messages === 0) return [];
  const info = await jsm.consumers.add(DLQ_STREAM, {
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    filter_subject: group === undefined ? `${DLQ_PREFIX}>` : dlqSubject(group),
    inactive_threshold: nanos(60_000),
    mem_storage: true,
  });
  const letters: NatsDeadLetter[] = [];
  try {
    const consumer = js.consumers.getConsumerFromInfo(info);
    let remaining = info.num_pending;
    while (remaining > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(remaining, 256), expires: 2_000 });
      let got = 0;
      for await (const msg of batch) {
        got++;
        // Bounded by the count at the start, so letters written meanwhile cannot keep the read going.
        remaining = Math.min(remaining - 1, msg.info.pending);
        const letter = storedLetter(msg.seq, msg.json());
        // Groups whose names differ only in characters a subject cannot hold share a subject.
        if (group === undefined || letter.group === group) letters.push(letter);
        if (remaining <= 0) break;
      }
      if (got === 0) break;
    }
  } finally {
    await jsm.consumers.delete(DLQ_STREAM, info.name).catch(() => undefined);
  }
  return letters;
}
