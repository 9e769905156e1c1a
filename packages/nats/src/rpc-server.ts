/** @module Serving side of request/reply: queue-group and instance subscriptions with bounded concurrency. */
import {
  FlotillaCodes,
  FlotillaError,
  newTraceContext,
  type RequestEnvelope,
  type RequestHandler,
  type ServeOptions,
  type Subscription,
  toWire,
  type WireError,
} from "@flotilla/core";
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  decode,
  encode,
  Queue,
  readMetaHeaders,
  readTimeout,
  replyError,
} from "@flotilla/core/internal";
import type { Msg, NatsConnection, Subscription as NatsSubscription } from "@nats-io/transport-node";
import { errorHeaders, extraHeaders, readHeaders } from "./headers.js";
import { ServiceApi } from "./service-api.js";
import { INSTANCE_PREFIX, instanceWildcard, PING_ACTION, RPC_PREFIX, rpcServiceSubject } from "./subjects.js";
import { withTimeout } from "./with-timeout.js";

interface Pending {
  readonly msg: Msg;
  readonly action: string;
  /** When it arrived: time spent in our queue comes off the caller's budget. */
  readonly receivedAt: number;
}

const PING_REPLY = new TextEncoder().encode("true");
const DRAIN_WAIT_MS = 5_000;

/**
 * One instance's server: NATS balances requests over the queue group (named after the service), the
 * instance subject reaches this instance only. At most `maxInFlight` handlers run, `maxQueued` wait,
 * and the rest are answered at once with FLOTILLA_OVERLOADED so the caller can go elsewhere.
 */
export class RpcServer implements Subscription {
  private inFlight = 0;
  private readonly queue = new Queue<Pending>();
  private readonly subs: NatsSubscription[];
  /** ADR-32 discovery and per-action stats for NATS tooling. */
  private readonly api: ServiceApi;
  private readonly instancePrefixLength: number;
  private closing: Promise<void> | undefined;
  /** Replies waiting for the end of this turn of the event loop, each message followed by its body. */
  private replies: (Msg | Uint8Array)[] = [];
  private idle: (() => void) | undefined;
  /** Why the server refused a subscription (its user may not serve this service), if it did. */
  refused: Error | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: ServeOptions,
    private readonly handler: RequestHandler,
  ) {
    this.instancePrefixLength = INSTANCE_PREFIX.length + opts.instance.length + 1;
    this.api = new ServiceApi(nc, opts);
    this.subs = [
      nc.subscribe(rpcServiceSubject(opts.service), {
        queue: opts.service,
        callback: (err, msg) => (err ? this.refuse(err) : this.receive(msg, RPC_PREFIX.length)),
      }),
      nc.subscribe(instanceWildcard(opts.instance, opts.service), {
        callback: (err, msg) => (err ? this.refuse(err) : this.receive(msg, this.instancePrefixLength)),
      }),
    ];
  }

  /** Leaves the queue group (new requests go to other instances), then finishes in-flight and queued work. */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    this.api.close(); // tooling stops listing this instance at once
    // drain() lets requests already routed to us arrive; bounded, as it needs a round trip to the server.
    await Promise.all(
      this.subs.map((sub) =>
        withTimeout(
          Promise.resolve().then(() => sub.drain()),
          DRAIN_WAIT_MS,
        ).catch(() => {
          if (!sub.isClosed()) sub.unsubscribe();
        }),
      ),
    );
    if (this.inFlight > 0 || this.queue.length > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    this.flushReplies();
  }

  private refuse(err: Error): void {
    this.refused ??= err;
  }

  private receive(msg: Msg, prefixLength: number): void {
    if (!msg.reply) return; // nobody waits for an answer
    const action = msg.subject.slice(prefixLength);
    if (action.endsWith(`.${PING_ACTION}`)) {
      respond(msg, PING_REPLY);
      return;
    }
    const item: Pending = { msg, action, receivedAt: Date.now() };
    if (this.inFlight < this.opts.maxInFlight) this.run(item);
    else if (this.queue.length < this.opts.maxQueued) {
      this.queue.push(item);
    } else {
      const err = FlotillaError.of(FlotillaCodes.OVERLOADED, `${this.opts.instance} has too many queued requests`);
      this.api.record(action, 0, this.replyError(msg, err));
    }
  }

  private run(item: Pending): void {
    this.inFlight++;
    const started = process.hrtime.bigint();
    const done = (error: WireError | undefined) => {
      this.api.record(item.action, Number(process.hrtime.bigint() - started), error);
      this.next();
    };
    let result: Promise<unknown>;
    try {
      // The handler may answer at once; a promise either way keeps one path here.
      result = Promise.resolve(this.handler(this.envelope(item)));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (value) => done(this.reply(item.msg, value)),
      (err: unknown) => done(this.replyError(item.msg, err)),
    );
  }

  private envelope(item: Pending): RequestEnvelope {
    const { msg, action } = item;
    const headers = readHeaders(msg);
    // An empty header counts as absent, as it always has over NATS.
    const get = (name: string) => headers.get(name) || undefined;
    const timeout = readTimeout(get);
    // No time given, or all of it spent in our queue: the caller has stopped waiting.
    const deadline = timeout === undefined ? 0 : item.receivedAt + timeout;
    if (deadline <= Date.now()) throw new FlotillaError("DEADLINE_EXCEEDED", `${action} arrived after its deadline`);
    const req: RequestEnvelope = {
      service: this.opts.service,
      action,
      meta: readMetaHeaders(get, deadline, newTraceContext),
      headers: extraHeaders(headers),
      payload: decode(msg.data),
      instance: msg.subject.startsWith(INSTANCE_PREFIX) ? this.opts.instance : undefined,
    };
    return req;
  }

  private next(): void {
    this.inFlight--;
    while (this.inFlight < this.opts.maxInFlight) {
      const item = this.queue.shift();
      if (item === undefined) break;
      this.run(item);
    }
    if (this.inFlight === 0 && this.queue.length === 0) this.idle?.();
  }

  /** Sends the reply; returns the error sent instead if it cannot be. */
  private reply(msg: Msg, value: unknown): WireError | undefined {
    let data: Uint8Array;
    try {
      data = encode(value, this.maxPayload());
    } catch (err) {
      return this.replyError(msg, replyError(err));
    }
    // Handlers finish in different microtasks, and nats.js writes to the socket once per microtask
    // checkpoint: the replies of one turn go out together, in one write, instead of one write each.
    this.replies.push(msg, data);
    if (this.replies.length === 2) setImmediate(this.flushReplies);
    return undefined;
  }

  private readonly flushReplies = (): void => {
    const replies = this.replies;
    this.replies = [];
    for (let i = 0; i < replies.length; i += 2) respond(replies[i] as Msg, replies[i + 1] as Uint8Array);
  };

  private replyError(msg: Msg, err: unknown): WireError {
    let wire = toWire(err);
    let data: Uint8Array;
    try {
      data = encode(wire, this.maxPayload() - 1024);
    } catch {
      // Details too big for one message: keep what the caller needs to decide.
      wire = { code: wire.code, status: wire.status, message: wire.message.slice(0, 1024), retryable: wire.retryable };
      data = encode(wire);
    }
    respond(msg, data, errorHeaders(wire));
    return wire;
  }

  private maxPayload(): number {
    return this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }
}

function respond(msg: Msg, data: Uint8Array, headers?: ReturnType<typeof errorHeaders>): void {
  try {
    msg.respond(data, headers === undefined ? undefined : { headers });
  } catch {
    // The connection is gone; the caller sees UNAVAILABLE or its own timeout.
  }
}
