/** @module Caller side of request/reply: one reply subscription per connection and one shared deadline timer. */
import { FlotillaCodes, FlotillaError, fromWire, newTraceContext, type RequestEnvelope } from "@flotilla/core";
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  DeadlineEntry,
  DeadlineTimer,
  decode,
  encode,
  unavailable,
  writeMetaHeaders,
} from "@flotilla/core/internal";
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { NatsHeaders, OutgoingHeaders } from "./headers.js";
import { instanceSubject, PING_ACTION, rpcSubject } from "./subjects.js";

const UNSAFE_SUBJECT = /[\s*>]/;

class Call extends DeadlineEntry {
  constructor(
    readonly token: string,
    deadline: number,
    readonly req: RequestEnvelope,
    readonly resolve: (value: unknown) => void,
    readonly reject: (err: unknown) => void,
    readonly client: RpcClient,
  ) {
    super(deadline);
  }

  onExpire(): void {
    this.client.expire(this);
  }
}

/**
 * Sends requests with a reply subject `<inbox>.<token>` under one wildcard subscription and matches
 * replies through a map, so a call costs one publish and one map entry, not a subscription and a timer.
 */
interface Outgoing {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs;
  readonly call: Call;
}

export class RpcClient {
  private readonly pending = new Map<string, Call>();
  private readonly timer = new DeadlineTimer();
  private readonly inbox: string;
  private readonly sub: Subscription;
  private seq = 0;
  /** Requests of this turn not yet handed to nats.js (see request). */
  private outgoing: Outgoing[] = [];
  /** False while the connection is down: calls fail at once instead of queueing in the client's buffer. */
  online = true;

  /** `inboxPrefix`: the connection's (`_INBOX` unless set), which credentials may confine a user to. */
  constructor(
    private readonly nc: NatsConnection,
    inboxPrefix?: string,
  ) {
    this.inbox = createInbox(inboxPrefix);
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (_err, msg) => this.onReply(msg) });
  }

  request(req: RequestEnvelope, timeoutMs: number): Promise<unknown> {
    if (!this.online) return Promise.reject(disconnected("not connected to NATS"));
    if (UNSAFE_SUBJECT.test(req.action) || (req.instance !== undefined && UNSAFE_SUBJECT.test(req.instance))) {
      return Promise.reject(new FlotillaError("INVALID_ARGUMENT", `"${req.action}" cannot be used as a NATS subject`));
    }
    const subject = req.instance === undefined ? rpcSubject(req.action) : instanceSubject(req.instance, req.action);
    let data: Uint8Array;
    let headers: MsgHdrs;
    try {
      data = encode(req.payload, this.maxPayload());
      const out = writeMetaHeaders(req.meta, timeoutMs, new OutgoingHeaders());
      out.setAll(req.headers);
      headers = out.asMsgHdrs();
    } catch (err) {
      return Promise.reject(err);
    }
    const token = (++this.seq).toString(36);
    return new Promise((resolve, reject) => {
      const call = new Call(token, Date.now() + timeoutMs, req, resolve, reject, this);
      this.pending.set(token, call);
      this.timer.track(call);
      // Calls start in different I/O callbacks (one per HTTP request at a gateway), and nats.js writes to
      // the socket once per microtask checkpoint: the requests of one turn go out together, in one write,
      // instead of one write each (as the server batches its replies).
      this.outgoing.push({ subject, data, headers, call });
      if (this.outgoing.length === 1) setImmediate(this.flushRequests);
    });
  }

  private readonly flushRequests = (): void => {
    const outgoing = this.outgoing;
    this.outgoing = [];
    for (const { subject, data, headers, call } of outgoing) {
      // Failed meanwhile (the connection dropped, the client closed): nothing waits for its reply.
      if (this.pending.get(call.token) !== call) continue;
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${call.token}`, headers });
      } catch (err) {
        this.fail(call, publishError(err, this.maxPayload()));
      }
    }
  };

  /** Whether some instance of the service answers right now (a ping its servers answer outside their queue). */
  async ping(service: string, timeoutMs: number): Promise<boolean> {
    try {
      const action = `${service}.${PING_ACTION}`;
      const meta = { trace: newTraceContext(), correlationId: `ping.${service}`, caller: undefined, deadline: 0 };
      await this.request({ service, action, meta, payload: null }, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /** Fails every pending call, e.g. when the connection drops: their replies can no longer arrive. */
  failAll(err: FlotillaError): void {
    for (const call of [...this.pending.values()]) this.fail(call, err);
  }

  close(): void {
    this.online = false;
    this.failAll(unavailable("transport closed"));
    this.sub.unsubscribe();
  }

  expire(call: Call): void {
    this.fail(call, new FlotillaError("DEADLINE_EXCEEDED", `${call.req.action} did not answer in time`));
  }

  private onReply(msg: Msg): void {
    const call = this.pending.get(msg.subject.slice(this.inbox.length + 1));
    if (call === undefined) return; // late: the caller already gave up
    const headers = msg.headers;
    if (headers !== undefined && headers.code === 503 && msg.data.length === 0) {
      const { req } = call;
      const message =
        req.instance === undefined
          ? `no instance of ${req.service} is available`
          : `instance ${req.instance} is not available`;
      this.fail(call, FlotillaError.of(FlotillaCodes.NO_INSTANCE, message));
      return;
    }
    let body: unknown;
    try {
      body = decode(msg.data);
    } catch (err) {
      this.fail(call, err);
      return;
    }
    if (headers?.has(NatsHeaders.error)) this.fail(call, fromWire(body));
    else if (this.settle(call)) call.resolve(body);
  }

  private fail(call: Call, err: unknown): void {
    if (this.settle(call)) call.reject(err);
  }

  private settle(call: Call): boolean {
    if (!this.pending.delete(call.token)) return false;
    this.timer.untrack(call);
    return true;
  }

  private maxPayload(): number {
    return this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }
}

/** For `.catch()` on JetStream API calls: a FlotillaError passes, anything else becomes UNAVAILABLE. */
export function orUnavailable(what: string): (err: unknown) => never {
  return (err) => {
    throw err instanceof FlotillaError ? err : unavailable(`cannot ${what}`, err);
  };
}

/** This process is not connected: the target may be healthy (circuit breakers must not count it). */
export function disconnected(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.DISCONNECTED, message);
}

/** nats.js refuses a message whose headers push it past max_payload; anything else means the link is gone. */
export function publishError(err: unknown, limit: number): FlotillaError {
  if (err instanceof FlotillaError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes("max_payload")) {
    return FlotillaError.of(
      FlotillaCodes.PAYLOAD_TOO_LARGE,
      `message with headers exceeds the limit of ${limit} bytes`,
      {
        details: { limit },
      },
    );
  }
  return unavailable(`NATS refused the message: ${message}`, err);
}
