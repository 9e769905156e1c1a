/**
 * @module The live hub: one broadcast subscription per gateway to the pushed event types; each event
 * goes to the open connections of the user its emitter marked, and into the replay buffer for resumes.
 */
import {
  audienceOf,
  type Delivery,
  EVERYONE,
  type EventEnvelope,
  type EventPosition,
  FlotillaError,
  type Host,
  parseTraceparent,
  type Subscription,
} from "@flotilla/core";
import { remoteParent } from "@flotilla/telemetry/internal";
import { ROOT_CONTEXT, SpanKind } from "@opentelemetry/api";
import { advance, type Cursor, formatCursor } from "./live-cursor.js";
import { LiveCodes, type LiveProtocol, type ResolvedLiveOptions } from "./live-options.js";
import { primed } from "./live-priming.js";
import { type LiveEntry, ReplayBuffer } from "./replay-buffer.js";

/** A message as both protocols send it (SSE as its `data`, WebSocket as a text frame). */
export interface LiveMessage {
  /** The position after this message: an SSE `id`, and what `Last-Event-ID` resumes from. */
  readonly id: string;
  /** The event's type, e.g. `orders.OrderStatusChanged`. */
  readonly type: string;
  readonly eventId: string;
  readonly data: unknown;
  /** The message as JSON (`{ id, type, eventId, data }`), as SSE and WebSocket send it. */
  readonly json: string;
}

/** One connection's way to its client. `send` and `heartbeat` answer false when the client is too far behind. */
export interface LiveSink {
  readonly protocol: LiveProtocol;
  /** The connection is open: `id` is the caller's position now (an SSE event `ready`). */
  ready(id: string): boolean;
  send(message: LiveMessage): boolean;
  heartbeat(): boolean;
  /** Ends the connection (the sink's own close then reaches `LiveHub.detach`). */
  end(): void;
}

export class LiveConnection {
  constructor(
    readonly user: string,
    readonly sink: LiveSink,
    readonly cursor: Cursor,
  ) {}
}

/** Event ids remembered to drop a redelivered event (at-least-once transports repeat some). */
const REMEMBERED_IDS = 10_000;

export class LiveHub {
  private readonly byUser = new Map<string, Set<LiveConnection>>();
  private count = 0;
  /** The newest position seen per stream: a new connection's starting point. */
  private readonly heads: Cursor = new Map();
  private readonly buffer: ReplayBuffer;
  private readonly seen = new Set<string>();
  /** Positions of this gateway's own, for a transport that keeps no history (resumes work on this gateway only). */
  private readonly localStream: string;
  private localSeq = 0;
  private subscription: Subscription | undefined;
  private heartbeats: NodeJS.Timeout | undefined;
  private closing = false;
  /** Live events that arrive while the buffer is primed from history wait here, then follow it. */
  private held: [EventEnvelope, Delivery][] | undefined;

  constructor(
    private readonly host: Host,
    private readonly options: ResolvedLiveOptions,
    private readonly log: Host["log"],
  ) {
    this.buffer = new ReplayBuffer({
      maxEvents: options.replayMaxEvents,
      maxAgeMs: options.replayMaxAgeMs,
      maxTotal: options.replayMaxTotalEvents,
    });
    this.localStream = `gw-${host.id.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 60)}`;
  }

  get connections(): number {
    return this.count;
  }

  /**
   * Subscribes, then fills the replay buffer with the recent past the transport retains (so a caller
   * who resumes here after another gateway, or after this one restarted, still gets what it missed);
   * events arriving meanwhile are held and follow the primed ones. Priming that fails or runs past
   * `primeTimeoutMs` is given up with a warning: the gateway then replays only what it sees itself.
   */
  async start(): Promise<void> {
    if (this.subscription !== undefined) return;
    this.held = [];
    // Broadcast: every gateway instance sees every event of these types, over the app's own transport.
    this.subscription = await this.host.transport.subscribe(
      {
        types: this.options.events.map((e) => e.type),
        instance: `gateway-live-${this.host.id}`,
        maxInFlight: 256,
        maxDeliveries: 1,
        backoffMs: () => 0,
      },
      this.onEvent,
    );
    await this.prime();
    const held = this.held;
    this.held = undefined;
    for (const [event, delivery] of held) this.take(event, delivery.position);
    this.heartbeats = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeats.unref();
  }

  /** Ends every connection (clients reconnect to another instance), then the subscription. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeats);
    for (const set of this.byUser.values()) for (const c of set) c.sink.end();
    await this.subscription?.close();
    this.subscription = undefined;
  }

  /**
   * Opens a connection for `user`, synchronously (no event can slip between the replay and live
   * delivery): checks the limits, replays what the caller missed after `resume`, sends `ready`, then
   * delivers live. Throws the refusal when a limit is reached.
   */
  open(user: string, sink: LiveSink, resume: Cursor | undefined): LiveConnection {
    this.admit(user);
    const mine = this.byUser.get(user) ?? new Set<LiveConnection>();
    const missed = resume === undefined ? [] : this.buffer.since(user, resume, Date.now());
    const cursor: Cursor = new Map(resume);
    advance(cursor, this.heads);
    const connection = new LiveConnection(user, sink, cursor);
    this.byUser.set(user, mine);
    mine.add(connection);
    this.count++;
    this.options.metrics?.opened(sink.protocol);
    // Replayed first, then `ready`: from there on the caller is live.
    if ((resume !== undefined && !this.replay(connection, missed, resume)) || !sink.ready(formatCursor(cursor))) {
      this.dropSlow(connection);
    }
    return connection;
  }

  /** Throws the refusal if `user` may not open one more connection now (429 per user, 503 in total). */
  admit(user: string): void {
    const metrics = this.options.metrics;
    // The caller's own limit first: when both are reached, closing one of theirs is what helps.
    if ((this.byUser.get(user)?.size ?? 0) >= this.options.maxConnectionsPerUser) {
      metrics?.refused("user");
      throw FlotillaError.of(
        LiveCodes.TOO_MANY_LIVE_CONNECTIONS,
        `at most ${this.options.maxConnectionsPerUser} live connections per user`,
      );
    }
    if (this.closing || this.count >= this.options.maxConnections) {
      metrics?.refused("total");
      throw FlotillaError.of(LiveCodes.LIVE_FULL, "the gateway has no room for another live connection");
    }
  }

  /** The connection has ended (either side): forget it. */
  detach(connection: LiveConnection): void {
    const mine = this.byUser.get(connection.user);
    if (mine === undefined || !mine.delete(connection)) return;
    if (mine.size === 0) this.byUser.delete(connection.user);
    this.count--;
    this.options.metrics?.closed(connection.sink.protocol);
  }

  /** False when the client could not take it all. */
  private replay(connection: LiveConnection, missed: readonly LiveEntry[], resume: Cursor): boolean {
    // Ids of replayed messages count up from where the caller was, so a second drop resumes mid-replay.
    const cursor: Cursor = new Map(resume);
    let sent = 0;
    for (const entry of missed) {
      cursor.set(entry.stream, entry.seq);
      if (!connection.sink.send(messageOf(entry, formatCursor(cursor)))) break;
      sent++;
    }
    this.options.metrics?.replayed(sent);
    this.options.metrics?.pushed(connection.sink.protocol, sent);
    return sent === missed.length;
  }

  /** Reads the retained events of the last `replayMaxAgeMs` into the buffer, within `primeTimeoutMs`. */
  private async prime(): Promise<void> {
    const recent = this.host.transport.recent;
    if (recent === undefined) return;
    const now = Date.now();
    const types = this.options.events.map((e) => e.type);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.options.primeTimeoutMs);
    try {
      const events = await primed(
        recent.call(this.host.transport, types, now - this.options.replayMaxAgeMs),
        this.options.replayMaxTotalEvents,
        deadline.signal,
      );
      for (const { event, position } of events) this.take(event, position, Date.parse(event.time) || now);
      this.options.metrics?.primed?.(events.length);
      if (deadline.signal.aborted) {
        this.log.warn({ primed: events.length }, "live replay buffer: priming took too long, kept what was read");
      }
    } catch (err) {
      this.log.warn({ err }, "live replay buffer not primed: resumes get only what this gateway sees from now on");
    } finally {
      clearTimeout(timer);
    }
  }

  private readonly onEvent = async (event: EventEnvelope, delivery: Delivery): Promise<void> => {
    if (this.held !== undefined) this.held.push([event, delivery]);
    else this.take(event, delivery.position);
  };

  /** One event, live or primed: remembered, positioned, kept for resumes and pushed to its receivers. */
  private take(event: EventEnvelope, at: EventPosition | undefined, receivedAt = Date.now()): void {
    if (this.seen.has(event.id)) return; // a repeat: every connection had it already
    this.remember(event.id);
    const position = at ?? { stream: this.localStream, seq: ++this.localSeq };
    if ((this.heads.get(position.stream) ?? 0) < position.seq) this.heads.set(position.stream, position.seq);
    const user = audienceOf(event.headers);
    if (user === undefined) return; // concerns no one: not pushed
    const entry: LiveEntry = {
      user,
      stream: position.stream,
      seq: position.seq,
      at: receivedAt,
      eventId: event.id,
      type: event.type,
      data: event.data,
      evicted: false,
    };
    this.buffer.add(entry);
    const receivers = user === EVERYONE ? this.count : (this.byUser.get(user)?.size ?? 0);
    if (receivers === 0) return;
    const span = this.host.tracer?.startSpan(
      `live push ${event.type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          "flotilla.service": "gateway",
          "messaging.message.id": event.id,
          "flotilla.live.connections": receivers,
          ...(user === EVERYONE ? { "flotilla.live.audience": "everyone" } : {}),
        },
      },
      parentOf(event),
    );
    if (user === EVERYONE) {
      for (const set of this.byUser.values()) for (const connection of set) this.push(connection, entry);
    } else {
      for (const connection of this.byUser.get(user) ?? []) this.push(connection, entry);
    }
    span?.end();
  }

  private push(connection: LiveConnection, entry: LiveEntry): void {
    const { cursor, sink } = connection;
    if ((cursor.get(entry.stream) ?? 0) < entry.seq) cursor.set(entry.stream, entry.seq);
    if (sink.send(messageOf(entry, formatCursor(cursor)))) this.options.metrics?.pushed(sink.protocol, 1);
    else this.dropSlow(connection);
  }

  private dropSlow(connection: LiveConnection): void {
    this.log.warn({ user: connection.user, protocol: connection.sink.protocol }, "live client too slow: dropped");
    this.options.metrics?.droppedSlow(connection.sink.protocol);
    this.detach(connection);
    connection.sink.end();
  }

  private beat(): void {
    this.buffer.prune(Date.now());
    for (const set of this.byUser.values()) {
      for (const connection of set) if (!connection.sink.heartbeat()) this.dropSlow(connection);
    }
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > REMEMBERED_IDS) this.seen.delete(this.seen.values().next().value as string);
  }
}

/**
 * One connection's message for an entry. Only the id differs between connections, so the rest of the
 * JSON is encoded once per event (a fan-out to thousands of connections spent most of its time here).
 */
function messageOf(entry: LiveEntry, id: string): LiveMessage {
  entry.json ??= JSON.stringify({ type: entry.type, eventId: entry.eventId, data: entry.data }).slice(1);
  const json = `{"id":${JSON.stringify(id)},${entry.json}`;
  return { id, type: entry.type, eventId: entry.eventId, data: entry.data, json };
}

function parentOf(event: EventEnvelope) {
  const parent = parseTraceparent(event.headers.traceparent, event.headers.tracestate);
  return parent === undefined ? ROOT_CONTEXT : remoteParent(parent);
}
