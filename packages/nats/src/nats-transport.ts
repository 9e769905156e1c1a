/** @module The NATS transport: core request-reply for actions, JetStream for events, one connection. */
import {
  type EventEnvelope,
  type EventHandler,
  type EventHistory,
  FlotillaCodes,
  FlotillaError,
  type PositionedEvent,
  type RequestEnvelope,
  type RequestHandler,
  type RequestOptions,
  type ServeOptions,
  type SubscribeOptions,
  type Subscription,
  type Transport,
} from "@flotilla/core";
import { DEFAULT_MAX_PAYLOAD_BYTES, unavailable } from "@flotilla/core/internal";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { NatsDeadLetterStore } from "./dead-letter-store.js";
import { writeDeadLetter } from "./dead-letters.js";
import { EventMember } from "./event-consumer.js";
import { EventPublisher } from "./event-publisher.js";
import { openHistory, openRecent } from "./history.js";
import { groupLag } from "./lag.js";
import { type NatsTransportOptions, resolveOptions, sourcesFor } from "./options.js";
import { disconnected, orUnavailable, RpcClient } from "./rpc-client.js";
import { RpcServer } from "./rpc-server.js";
import { Streams } from "./streams.js";
import { isSubjectSafe } from "./subjects.js";
import { withTimeout } from "./with-timeout.js";

const CLOSE_WAIT_MS = 5_000;
const PING_TIMEOUT_MS = 1_000;

interface Link {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly streams: Streams;
  readonly rpc: RpcClient;
  readonly events: EventPublisher;
}

export class NatsTransport implements Transport {
  readonly name = "nats";
  private readonly options: ReturnType<typeof resolveOptions>;
  private link: Link | undefined;
  private connecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly open = new Set<Subscription>();
  private readonly members = new Set<EventMember>();
  /** Dead letters in the `FLOTILLA_DLQ` stream; ids are their stream sequences. */
  readonly deadLetterStore = new NatsDeadLetterStore(() => this.required());

  constructor(options: NatsTransportOptions) {
    this.options = resolveOptions(options);
  }

  connect(): Promise<void> {
    this.connecting ??= this.dial().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown().finally(() => {
      this.closing = undefined;
    });
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const link = this.link;
    if (link === undefined) return;
    // Subscriptions still open finish their work first; their handlers may still call and publish.
    await withTimeout(Promise.all([...this.open].map((s) => s.close())), CLOSE_WAIT_MS).catch(() => undefined);
    this.link = undefined;
    this.connecting = undefined;
    link.rpc.close();
    link.events.close();
    await withTimeout(link.nc.drain(), CLOSE_WAIT_MS).catch(() => link.nc.close());
  }

  request(req: RequestEnvelope, opts: RequestOptions): Promise<unknown> {
    if (this.link === undefined) return Promise.reject(disconnected("transport is not connected"));
    return this.link.rpc.request(req, opts.timeoutMs);
  }

  async serve(opts: ServeOptions, handler: RequestHandler): Promise<Subscription> {
    const link = this.required();
    for (const name of [opts.service, opts.instance]) {
      if (!isSubjectSafe(name) || name.includes(".")) throw config(`"${name}" cannot be used in a NATS subject`);
    }
    const server = new RpcServer(link.nc, opts, handler);
    // The subscriptions must be known to the server before anyone is told this instance serves; a
    // refusal (the connection's user may not serve the service) arrives before the flush's answer.
    await withTimeout(link.nc.flush(), CLOSE_WAIT_MS).catch(() => undefined);
    if (server.refused !== undefined) {
      await server.close();
      throw new FlotillaError("PERMISSION_DENIED", `NATS refused serving ${opts.service}: ${server.refused.message}`, {
        cause: server.refused,
      });
    }
    return this.track(server);
  }

  isAvailable(service: string): Promise<boolean> {
    if (this.link === undefined) return Promise.resolve(false);
    return this.link.rpc.ping(service, PING_TIMEOUT_MS);
  }

  publish(event: EventEnvelope): Promise<void> {
    if (this.link === undefined) return Promise.reject(disconnected("transport is not connected"));
    return this.link.events.publish(event);
  }

  async subscribe(opts: SubscribeOptions, handler: EventHandler): Promise<Subscription> {
    const link = this.required();
    for (const type of opts.types) {
      if (!isSubjectSafe(type)) throw config(`event type "${type}" cannot be used in a NATS subject`);
    }
    const { group, sources } = sourcesFor(opts);
    const member = new EventMember(
      sources,
      group,
      opts,
      handler,
      {
        js: link.js,
        jsm: link.jsm,
        streams: link.streams,
        settings: this.options,
        deadLetter: (letter, seq) =>
          writeDeadLetter(link.js, link.streams, letter, seq, {
            maxPayload: link.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES,
            timeoutMs: this.options.publishTimeoutMs,
          }),
      },
      opts.group === undefined,
    );
    try {
      await member.start();
    } catch (err) {
      await member.close();
      throw unavailable(`cannot create the JetStream consumer for ${group}`, err);
    }
    this.members.add(member);
    const tracked = this.track(member);
    return { close: () => tracked.close().finally(() => this.members.delete(member)) };
  }

  /**
   * The retained events of `types`: stream after stream (in the order `types` first names each service),
   * oldest first within a stream, up to its last event when called; retry copies and non-events skipped.
   */
  async history(types: readonly string[]): Promise<EventHistory> {
    const link = this.required();
    return openHistory(link.js, link.jsm, types).catch(orUnavailable("read the event streams"));
  }

  /** The retained events of `types` stored at `since` or later, with their positions (see `openRecent`). */
  async recent(types: readonly string[], since: number): Promise<AsyncIterable<PositionedEvent>> {
    const link = this.required();
    return openRecent(link.js, link.jsm, types, since).catch(orUnavailable("read the event streams"));
  }

  /** `num_pending + num_ack_pending` of each durable group with members in this process. */
  async lag(): Promise<Record<string, number>> {
    return groupLag(this.required().jsm, this.members);
  }

  /** The underlying connection, for tooling that needs more than the Transport interface. */
  get connection(): NatsConnection | undefined {
    return this.link?.nc;
  }

  private async dial(): Promise<void> {
    const o = this.options;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: o.servers,
        name: o.name,
        ...(o.user === undefined ? {} : { user: o.user, pass: o.pass }),
        ...(o.token === undefined ? {} : { token: o.token }),
        ...(o.inboxPrefix === undefined ? {} : { inboxPrefix: o.inboxPrefix }),
        timeout: o.connectTimeoutMs,
        // nats.js otherwise captures a stack (an Error) for every request and publish: ~4 µs each.
        noAsyncTraces: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: o.reconnectWaitMs,
        reconnectJitter: Math.round(o.reconnectWaitMs / 4),
        pingInterval: 10_000,
        maxPingOut: 3,
      });
    } catch (err) {
      throw unavailable(`cannot connect to NATS at ${[o.servers].flat().join(", ")}`, err);
    }
    const js = jetstream(nc, { timeout: o.publishTimeoutMs });
    const jsm = await jetstreamManager(nc, { timeout: o.publishTimeoutMs, checkAPI: false });
    const streams = new Streams(jsm, o);
    const link: Link = {
      nc,
      js,
      jsm,
      streams,
      rpc: new RpcClient(nc, o.inboxPrefix),
      events: new EventPublisher(nc, streams, o.publishTimeoutMs, o.inboxPrefix),
    };
    this.link = link;
    void this.watch(link);
  }

  /** While the connection is down, calls and publishes fail at once with UNAVAILABLE. */
  private async watch(link: Link): Promise<void> {
    for await (const status of link.nc.status()) {
      if (status.type === "disconnect") {
        link.rpc.online = false;
        link.events.online = false;
        const lost = disconnected("connection to NATS lost");
        link.rpc.failAll(lost);
        link.events.failAll(lost);
        for (const member of this.members) member.disconnected();
      } else if (status.type === "reconnect") {
        link.rpc.online = true;
        link.events.online = true;
        for (const member of this.members) member.reconnected();
      }
    }
  }

  /** Remembers a subscription until it is closed, so close() can stop whatever is still open. */
  private track(sub: Subscription): Subscription {
    this.open.add(sub);
    return { close: () => sub.close().finally(() => this.open.delete(sub)) };
  }

  private required(): Link {
    if (this.link === undefined) throw disconnected("transport is not connected");
    return this.link;
  }
}

function config(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
