/** @module One member of a consumer group: pulls at most `maxInFlight` events, acks, naks or dead-letters. */

import {
  type DeadLetter,
  type EventEnvelope,
  type EventHandler,
  Headers,
  isPoison,
  type SubscribeOptions,
  type Subscription,
  toWire,
  type WireError,
} from "@flotilla/core";
import type {
  Consumer,
  ConsumerConfig,
  ConsumerMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
} from "@nats-io/jetstream";
import { decodeEvent, headersOf } from "./event-messages.js";
import { type IncomingHeaders, NatsHeaders } from "./headers.js";
import { Pauses } from "./pauses.js";
import { type ConsumerSettings, ensureConsumer, type Streams } from "./streams.js";
import { EVENT_PREFIX, eventStream } from "./subjects.js";

/** One pull consumer the member reads: a type's filter subject on its service's stream. */
export interface Source {
  readonly service: string;
  /** Durable name (group) or ephemeral consumer name (broadcast). */
  readonly name: string;
  readonly config: Partial<ConsumerConfig> & { filter_subject: string };
  stream?: string;
  consumer?: Consumer;
  /** Messages running here plus messages asked for and not yet received. */
  busy: number;
  budget: number;
}

export interface MemberEnv {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly streams: Streams;
  readonly settings: ConsumerSettings;
  deadLetter(letter: DeadLetter, seq: number): Promise<void>;
}

/** Long enough not to stress the server; short enough that a lost pull request is renewed quickly. */
const FETCH_EXPIRES_MS = 5_000;

export class EventMember implements Subscription {
  private closing = false;
  private offline = false;
  private closed: Promise<void> | undefined;
  private loops: Promise<void>[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly pauses = new Pauses();
  private readonly fetches = new Set<ConsumerMessages>();
  private readonly running = new Set<JsMsg>();
  /** Handled messages waiting for their ack, each followed by its source. */
  private acks: (JsMsg | Source)[] = [];
  private progress: NodeJS.Timeout | undefined;

  constructor(
    private readonly sources: Source[],
    /** Consumer group name, or the ephemeral consumer's name for broadcast. */
    readonly group: string,
    private readonly opts: SubscribeOptions,
    private readonly handler: EventHandler,
    private readonly env: MemberEnv,
    private readonly ephemeral: boolean,
  ) {}

  /** The consumers this member reads (stream and name), for their lag; durable ones only matter there. */
  consumers(): { stream: string; name: string }[] {
    return this.sources.map((s) => ({ stream: s.stream ?? eventStream(s.service), name: s.name }));
  }

  get durable(): boolean {
    return !this.ephemeral;
  }

  /** Resolves once every consumer exists, so events published from then on reach this group. */
  async start(): Promise<void> {
    for (const source of this.sources) await this.bind(source);
    this.loops = this.sources.map((source) => this.loop(source));
    // Handlers may outlive ack_wait: tell the server they are still working, so it does not redeliver.
    this.progress = setInterval(() => {
      for (const msg of this.running) msg.working();
    }, this.env.settings.ackWaitMs / 3);
    this.progress.unref();
  }

  /**
   * After a reconnect, retry at once rather than after the backoff. Open fetches renew their pull
   * requests themselves; closing them here could strand messages the server already sent to them.
   */
  reconnected(): void {
    this.offline = false;
    this.pauses.wakeAll();
    for (const batch of this.fetches) void batch.close();
  }

  /** JetStream API requests made while disconnected are lost, so nothing is tried until the link is back. */
  disconnected(): void {
    this.offline = true;
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.wakeWaiters();
    this.pauses.wakeAll();
    for (const batch of this.fetches) void batch.close();
    await Promise.all(this.loops);
    while (this.running.size > 0) await new Promise<void>((resolve) => this.waiters.add(resolve));
    clearInterval(this.progress);
    if (this.ephemeral) {
      for (const s of this.sources) {
        if (s.stream) await this.env.jsm.consumers.delete(s.stream, s.name).catch(() => undefined);
      }
    }
  }

  private async bind(source: Source): Promise<void> {
    const stream = await this.env.streams.forService(source.service);
    const info = await ensureConsumer(this.env.jsm, stream, source.config, this.env.settings);
    source.stream = stream;
    source.consumer = this.env.js.consumers.getConsumerFromInfo(info);
  }

  private async loop(source: Source): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      if (this.offline) {
        await this.pauses.pause(60_000); // until reconnected() or close()
        continue;
      }
      const want = await this.capacity(source);
      if (want === 0) break;
      source.busy += want;
      let received = 0;
      try {
        if (source.consumer === undefined) await this.bind(source);
        const batch = await (source.consumer as Consumer).fetch({ max_messages: want, expires: FETCH_EXPIRES_MS });
        this.fetches.add(batch);
        try {
          for await (const msg of batch) {
            received++;
            this.dispatch(source, msg);
          }
        } finally {
          this.fetches.delete(batch);
        }
        failures = 0;
      } catch {
        if (this.closing) break;
        // Server restarting, consumer or stream deleted: bind again after a pause.
        failures++;
        source.consumer = undefined;
        if (source.stream) this.env.streams.forget(source.stream);
        await this.pauses.pause(Math.min(5_000, 100 * 2 ** failures));
      } finally {
        source.busy -= want - received;
      }
    }
  }

  /** Waits for enough free slots to be worth a pull (a quarter of the budget, or any once idle). */
  private async capacity(source: Source): Promise<number> {
    const threshold = Math.max(1, Math.floor(source.budget / 4));
    while (!this.closing) {
      const free = source.budget - source.busy;
      if (free >= threshold || (free > 0 && source.busy === 0)) return free;
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
    return 0;
  }

  private dispatch(source: Source, msg: JsMsg): void {
    if (this.closing) {
      msg.nak(); // pulled while closing: hand it back at once rather than after ack_wait
      source.busy--;
      return;
    }
    const headers = headersOf(msg);
    const target = headers.get(Headers.retryGroup);
    this.running.add(msg);
    if (target !== undefined && target !== "" && target !== this.group) {
      this.acknowledge(source, msg); // a dead letter retried for another group: not this group's to handle
      return;
    }
    const attempt = msg.info.deliveryCount;
    let event: EventEnvelope;
    let result: Promise<void>;
    try {
      event = decodeEvent(msg.subject, headers, msg.data);
      result = this.handler(event, { attempt, position: { stream: msg.info.stream, seq: msg.seq } });
    } catch (err) {
      event = fallbackEnvelope(msg, headers);
      result = Promise.reject(err);
    }
    result.then(
      () => this.acknowledge(source, msg),
      (err: unknown) => this.failed(source, msg, event, attempt, err),
    );
  }

  /**
   * Acks go out together once per turn of the event loop, so nats.js writes them to the socket in one
   * write rather than one each. A plain ack, not a confirmed one: a lost ack means a redelivery, which
   * handlers tolerate (at least once; the inbox makes effects exactly once), as they did when a confirmed
   * ack timed out. The slot is freed when the ack is written, so a new pull always follows the acks.
   */
  private acknowledge(source: Source, msg: JsMsg): void {
    this.acks.push(msg, source);
    if (this.acks.length === 2) setImmediate(this.flushAcks);
  }

  private readonly flushAcks = (): void => {
    const acks = this.acks;
    this.acks = [];
    for (let i = 0; i < acks.length; i += 2) {
      const msg = acks[i] as JsMsg;
      msg.ack();
      this.running.delete(msg);
      (acks[i + 1] as Source).busy--;
    }
    this.wakeWaiters();
  };

  private failed(source: Source, msg: JsMsg, event: EventEnvelope, attempt: number, err: unknown): void {
    const done = () => this.release(source, msg);
    let error: WireError;
    try {
      error = toWire(err);
    } catch {
      error = toWire(new Error("the handler failed with something that cannot be described"));
    }
    if (attempt < this.opts.maxDeliveries && !isPoison(error.status)) {
      msg.nak(this.opts.backoffMs(attempt));
      done();
      return;
    }
    const letter = { event, group: this.group, attempts: attempt, error, failedAt: new Date().toISOString() };
    this.env
      .deadLetter(letter, msg.seq)
      .then(
        () => msg.term(),
        () => msg.nak(this.opts.backoffMs(attempt)), // the dead-letter store is unreachable: keep the event
      )
      .finally(done);
  }

  private release(source: Source, msg: JsMsg): void {
    this.running.delete(msg);
    source.busy--;
    this.wakeWaiters();
  }

  /** Wakes whoever waits for a free slot or for the in-flight handlers to finish. */
  private wakeWaiters(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}

/** What a message that is not a valid event still tells us, so it can be dead-lettered. */
function fallbackEnvelope(msg: JsMsg, headers: IncomingHeaders): EventEnvelope {
  return {
    id: headers.get(NatsHeaders.msgId) || `${msg.info.stream}:${msg.seq}`,
    type: msg.subject.slice(EVENT_PREFIX.length),
    source: "",
    version: 0,
    time: msg.time.toISOString(),
    headers: {},
    data: msg.string(),
  };
}
