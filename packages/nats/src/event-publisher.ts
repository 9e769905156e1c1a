/** @module Publishing events to JetStream: deduplicated by event id, confirmed by the PubAck, bounded in time. */
import { type EventEnvelope, FlotillaError } from "@flotilla/core";
import { DEFAULT_MAX_PAYLOAD_BYTES, DeadlineEntry, DeadlineTimer, unavailable } from "@flotilla/core/internal";
import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { eventMessage } from "./event-messages.js";
import type { OutgoingHeaders } from "./headers.js";
import { disconnected, publishError } from "./rpc-client.js";
import type { Streams } from "./streams.js";
import { eventStream, eventSubject, isSubjectSafe, serviceOf } from "./subjects.js";

/** One attempt at publishing one event: waits for its PubAck on `<inbox>.<token>`. */
class Publish extends DeadlineEntry {
  token = "";

  constructor(
    deadline: number,
    readonly owner: EventPublisher,
    readonly subject: string,
    readonly service: string,
    readonly data: Uint8Array,
    readonly headers: OutgoingHeaders,
    readonly resolve: () => void,
    readonly reject: (err: unknown) => void,
    readonly attempt: number,
  ) {
    super(deadline);
  }

  onExpire(): void {
    this.owner.expire(this);
  }
}

const decoder = new TextDecoder();

/**
 * Publishes with a reply subject `<inbox>.<token>` under one wildcard subscription and matches PubAcks
 * through a map, with one shared deadline timer (as RpcClient does for calls): a publish costs one
 * message and one map entry, not a request with its own subscription entry, timer and promises.
 */
export class EventPublisher {
  private readonly pending = new Map<string, Publish>();
  private readonly timer = new DeadlineTimer();
  private readonly inbox: string;
  private readonly sub: Subscription;
  private seq = 0;
  /** False while the connection is down: publishes fail at once instead of waiting for their PubAck timeout. */
  online = true;

  constructor(
    private readonly nc: NatsConnection,
    private readonly streams: Streams,
    private readonly timeoutMs: number,
    inboxPrefix?: string,
  ) {
    this.inbox = createInbox(inboxPrefix);
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (_err, msg) => this.onAck(msg) });
  }

  /**
   * Resolves once the stream acknowledged the event. `msgID` (the JetStream dedupe key) defaults to the
   * event id; a dead-letter retry passes its own.
   */
  publish(event: EventEnvelope, msgID = event.id): Promise<void> {
    if (!this.online) return Promise.reject(disconnected("not connected to NATS"));
    if (!isSubjectSafe(event.type)) {
      return Promise.reject(
        new FlotillaError("INVALID_ARGUMENT", `event type "${event.type}" cannot be used as a NATS subject`),
      );
    }
    let message: ReturnType<typeof eventMessage>;
    try {
      message = eventMessage(event, msgID, this.maxPayload());
    } catch (err) {
      return Promise.reject(err);
    }
    const subject = eventSubject(event.type);
    const service = serviceOf(event.type);
    return new Promise<void>((resolve, reject) => {
      this.start(new Publish(0, this, subject, service, message.data, message.headers, resolve, reject, 1));
    });
  }

  /** Fails the publishes waiting for a PubAck, e.g. when the connection drops. */
  failAll(err: FlotillaError): void {
    for (const p of [...this.pending.values()]) this.fail(p, err);
  }

  close(): void {
    this.online = false;
    this.failAll(disconnected("transport closed"));
    this.sub.unsubscribe();
  }

  expire(p: Publish): void {
    this.fail(p, unavailable("JetStream did not acknowledge the event in time"));
  }

  /** Registers the attempt (so failAll and the deadline reach it), then sends it once its stream is known. */
  private start(template: Publish): void {
    const p = new Publish(
      Date.now() + this.timeoutMs,
      this,
      template.subject,
      template.service,
      template.data,
      template.headers,
      template.resolve,
      template.reject,
      template.attempt,
    );
    p.token = (++this.seq).toString(36);
    this.pending.set(p.token, p);
    this.timer.track(p);
    if (this.streams.isKnown(p.service)) this.send(p);
    else {
      this.streams.forService(p.service).then(
        () => this.send(p),
        (err: unknown) =>
          this.fail(p, err instanceof FlotillaError ? err : unavailable("cannot create the stream", err)),
      );
    }
  }

  private send(p: Publish): void {
    if (!this.pending.has(p.token)) return; // failed or timed out while its stream was being made sure of
    try {
      this.nc.publish(p.subject, p.data, { reply: `${this.inbox}.${p.token}`, headers: p.headers.asMsgHdrs() });
    } catch (err) {
      this.fail(p, publishError(err, this.maxPayload()));
    }
  }

  private onAck(msg: Msg): void {
    const p = this.pending.get(msg.subject.slice(this.inbox.length + 1));
    if (p === undefined || !this.settle(p)) return; // late: the publish already failed
    if (msg.data.length === 0) {
      // No stream took the message (no responders): it was deleted, or is not listening yet.
      if (p.attempt === 1 && msg.headers?.code === 503) {
        this.streams.forget(eventStream(p.service));
        this.start(new Publish(0, this, p.subject, p.service, p.data, p.headers, p.resolve, p.reject, 2));
        return;
      }
      p.reject(unavailable("JetStream is not enabled, or no stream accepts the event"));
      return;
    }
    let ack: { stream?: unknown; error?: { description?: string; err_code?: number } };
    try {
      ack = JSON.parse(decoder.decode(msg.data));
    } catch (err) {
      p.reject(unavailable("JetStream answered the publish with something that is not a PubAck", err));
      return;
    }
    if (ack.error !== undefined) {
      const { description = "error", err_code } = ack.error;
      p.reject(unavailable(`JetStream refused the event: ${description} (${err_code})`));
    } else if (typeof ack.stream !== "string" || ack.stream === "") {
      p.reject(unavailable("JetStream answered the publish with an invalid PubAck"));
    } else p.resolve();
  }

  private fail(p: Publish, err: unknown): void {
    if (this.settle(p)) p.reject(err);
  }

  private settle(p: Publish): boolean {
    if (!this.pending.delete(p.token)) return false;
    this.timer.untrack(p);
    return true;
  }

  private maxPayload(): number {
    return this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }
}
