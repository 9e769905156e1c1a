/** @module The operator's view of the `FLOTILLA_DLQ` stream: list, get, retry and drop letters by id. */
import { type DeadLetterStore, FlotillaCodes, FlotillaError, Headers } from "@flotilla/core";
import { parseDeadLetterId } from "@flotilla/core/internal";
import { JetStreamApiCodes, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { type NatsDeadLetter, readDeadLetters, storedLetter } from "./dead-letters.js";
import type { EventPublisher } from "./event-publisher.js";
import { consumerName } from "./options.js";
import { orUnavailable } from "./rpc-client.js";
import { isApiError, type Streams } from "./streams.js";
import { DLQ_PREFIX, DLQ_STREAM, dlqSubject, durableName, eventStream, serviceOf } from "./subjects.js";

/** What the store needs of the transport's connection; the getter throws while disconnected. */
export interface DeadLetterLink {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly streams: Streams;
  readonly events: EventPublisher;
}

/**
 * A letter that cannot be delivered again as it was: its data was dropped to fit the dead-letter
 * stream, it was never a valid event, or its group has no consumer left to receive it.
 */
const NOT_RETRYABLE = FlotillaCodes.DEAD_LETTER_NOT_RETRYABLE;

/**
 * Letter ids are the letters' sequences in `FLOTILLA_DLQ` (decimal strings). Reads and removals of one
 * letter go straight to the stream by sequence (`STREAM.MSG.GET` / `STREAM.MSG.DELETE`); only `list`
 * uses a short-lived consumer.
 */
export class NatsDeadLetterStore implements DeadLetterStore {
  constructor(private readonly link: () => DeadLetterLink) {}

  /** Oldest first; a group's letters only when `group` is given. */
  async list(group?: string): Promise<NatsDeadLetter[]> {
    const { js, jsm, streams } = this.link();
    return readDeadLetters(js, jsm, streams, group).catch(orUnavailable("read the dead letters"));
  }

  /** From the stream's message count per subject (one per group): no letter is read. */
  async counts(groups: readonly string[]): Promise<Record<string, number>> {
    const { jsm, streams } = this.link();
    const read = async () => {
      await streams.deadLetters();
      return (await jsm.streams.info(DLQ_STREAM, { subjects_filter: `${DLQ_PREFIX}>` })).state.subjects ?? {};
    };
    const bySubject = await read().catch(orUnavailable("count the dead letters"));
    return Object.fromEntries(groups.map((group) => [group, bySubject[dlqSubject(group)] ?? 0]));
  }

  async get(id: string): Promise<NatsDeadLetter | undefined> {
    const seq = parseDeadLetterId(id);
    const msg = await this.link()
      .jsm.streams.getMessage(DLQ_STREAM, { seq })
      .catch((err: unknown) => {
        if (isApiError(err, JetStreamApiCodes.StreamNotFound)) return null;
        return orUnavailable(`read dead letter ${id}`)(err);
      });
    return msg === null ? undefined : storedLetter(msg.seq, msg.json());
  }

  /**
   * Publishes the event again to its subject with `flotilla-retry-group: <group>` (members of other
   * groups ack it unhandled) and `Nats-Msg-Id: <event id>:retry:<letter id>`, so retries of one letter
   * deduplicate; once JetStream acknowledged it, removes the letter.
   */
  async retry(id: string): Promise<void> {
    const letter = await this.get(id);
    if (letter === undefined) throw notFound(id);
    if (letter.truncated) {
      throw notRetryable(letter, "truncated", "its event data was too large to keep in the dead-letter stream");
    }
    const error = letter.error as { code?: unknown } | null;
    if (error?.code === FlotillaCodes.BAD_ENVELOPE.code) {
      throw notRetryable(letter, "not-an-event", "the message it holds is not a Flotilla event");
    }
    const link = this.link();
    const present = await hasConsumer(link.jsm, letter.group, letter.event.type).catch(
      orUnavailable(`look up the consumer of ${letter.group}`),
    );
    if (!present) {
      throw notRetryable(letter, "no-consumer", `group ${letter.group} has no consumer of ${letter.event.type} left`);
    }
    const event = { ...letter.event, headers: { ...letter.event.headers, [Headers.retryGroup]: letter.group } };
    await link.events.publish(event, `${event.id}:retry:${letter.id}`);
    await this.drop(id);
  }

  async drop(id: string): Promise<void> {
    const seq = parseDeadLetterId(id);
    try {
      // Without erasing: overwriting the stored bytes only slows the delete down.
      await this.link().jsm.streams.deleteMessage(DLQ_STREAM, seq, false);
    } catch (err) {
      if (isMissing(err)) throw notFound(id);
      orUnavailable(`remove dead letter ${id}`)(err);
    }
  }
}

/** Whether the group still has the consumer the event's subject feeds (one type, or one of several). */
async function hasConsumer(jsm: JetStreamManager, group: string, type: string): Promise<boolean> {
  const stream = eventStream(serviceOf(type));
  const base = durableName(group);
  for (const name of [consumerName(base, type, false), consumerName(base, type, true)]) {
    try {
      await jsm.consumers.info(stream, name);
      return true;
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound) && !isApiError(err, JetStreamApiCodes.StreamNotFound)) {
        throw err;
      }
    }
  }
  return false;
}

/** Deleting an absent sequence: no message (10037), or the stream's own "delete failed" (10057 on 2.9). */
function isMissing(err: unknown): boolean {
  return (
    isApiError(err, JetStreamApiCodes.NoMessageFound) ||
    isApiError(err, JetStreamApiCodes.StreamNotFound) ||
    isApiError(err, MSG_DELETE_FAILED)
  );
}

const MSG_DELETE_FAILED = 10057;

function notFound(id: string): FlotillaError {
  return new FlotillaError("NOT_FOUND", `no dead letter ${id}`, { details: { id } });
}

function notRetryable(letter: NatsDeadLetter, reason: string, why: string): FlotillaError {
  return FlotillaError.of(NOT_RETRYABLE, `dead letter ${letter.id} cannot be retried: ${why}`, {
    details: { id: letter.id, group: letter.group, reason },
  });
}
