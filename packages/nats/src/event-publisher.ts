/** @module Publishing events to JetStream: deduplicated by event id, confirmed by the PubAck, bounded in time. */
import { type EventEnvelope, FlotillaError } from "@flotilla/core";
import { DEFAULT_MAX_PAYLOAD_BYTES, unavailable } from "@flotilla/core/internal";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeEvent } from "./event-messages.js";
import { disconnected, publishError } from "./rpc-client.js";
import { isNoStream, type Streams } from "./streams.js";
import { eventStream, eventSubject, isSubjectSafe, serviceOf } from "./subjects.js";

export class EventPublisher {
  private readonly aborts = new Set<(err: FlotillaError) => void>();
  /** False while the connection is down: publishes fail at once instead of waiting for their PubAck timeout. */
  online = true;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly streams: Streams,
    private readonly timeoutMs: number,
  ) {}

  /** `msgID` (the JetStream dedupe key) defaults to the event id; a dead-letter retry passes its own. */
  async publish(event: EventEnvelope, msgID = event.id): Promise<void> {
    if (!this.online) throw disconnected("not connected to NATS");
    if (!isSubjectSafe(event.type)) {
      throw new FlotillaError("INVALID_ARGUMENT", `event type "${event.type}" cannot be used as a NATS subject`);
    }
    const limit = this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES;
    const { data, headers } = encodeEvent(event, limit);
    const service = serviceOf(event.type);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.abortable(this.streams.forService(service));
        await this.abortable(
          this.js.publish(eventSubject(event.type), data, { msgID, headers, timeout: this.timeoutMs }),
        );
        return;
      } catch (err) {
        // No stream took the message: make sure it exists and try once more.
        if (attempt === 1 && isNoStream(err)) {
          this.streams.forget(eventStream(service));
          continue;
        }
        throw err instanceof FlotillaError ? err : mapError(err, limit);
      }
    }
  }

  /** Fails the publishes waiting for a PubAck, e.g. when the connection drops. */
  failAll(err: FlotillaError): void {
    for (const abort of [...this.aborts]) abort(err);
  }

  private abortable<T>(promise: Promise<T>): Promise<T> {
    let abort!: (err: FlotillaError) => void;
    const aborted = new Promise<never>((_, reject) => {
      abort = reject;
    });
    this.aborts.add(abort);
    return Promise.race([promise, aborted]).finally(() => this.aborts.delete(abort));
  }
}

function mapError(err: unknown, limit: number): FlotillaError {
  const name = err instanceof Error ? err.name : "";
  if (name === "TimeoutError") return unavailable("JetStream did not acknowledge the event in time", err);
  if (name === "JetStreamNotEnabled")
    return unavailable("JetStream is not enabled, or no stream accepts the event", err);
  return publishError(err, limit);
}
