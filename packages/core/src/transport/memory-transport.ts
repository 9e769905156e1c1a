/** @module The in-process transport: the same semantics as the NATS one, with no network. */
import { DeadlineEntry, DeadlineTimer } from "../deadline-timer.js";
import { FlotillaCodes, FlotillaError, fromWire, toWire } from "../errors.js";
import { Queue } from "../queue.js";
import { DEFAULT_MAX_PAYLOAD_BYTES, roundTrip } from "./codec.js";
import { type EventEnvelope, Headers, type RequestEnvelope } from "./envelope.js";
import type { EventJournal } from "./event-journal.js";
import { JournalUpkeep } from "./journal-upkeep.js";
import { ConsumerGroup, JOURNAL_STREAM } from "./memory-consumer-group.js";
import { MemoryDeadLetterStore } from "./memory-dead-letters.js";
import type {
  DeadLetter,
  DeadLetterStore,
  EventHandler,
  EventHistory,
  PositionedEvent,
  RequestHandler,
  ServeOptions,
  SubscribeOptions,
  Subscription,
  Transport,
} from "./transport.js";
import { replyError, unavailable } from "./transport-errors.js";

export interface MemoryTransportOptions {
  /**
   * Serialize every request, reply and event as the network would (JSON, size limit), so code that
   * works embedded cannot rely on shared object references or values JSON cannot carry.
   */
  faithful?: boolean;
  maxPayloadBytes?: number;
  /** Events a consumer group may hold undelivered before publishes are refused. */
  maxBacklog?: number;
  /**
   * Keeps every accepted event, and what each durable group has yet to handle, so a killed process
   * loses none: the next one on the same journal delivers them again. The transport owns the
   * journal from then on and closes it in `close()`. Without one, events live only in memory.
   */
  journal?: EventJournal;
  /** With a journal: how long events stay for `history()` once no group has them pending (7 days). */
  retentionMs?: number;
}

class Call extends DeadlineEntry {
  settled = false;
  constructor(
    deadline: number,
    readonly req: RequestEnvelope,
    readonly resolve: (value: unknown) => void,
    readonly reject: (err: unknown) => void,
    readonly onTimeout: (call: Call) => void,
  ) {
    super(deadline);
  }
  onExpire(): void {
    this.onTimeout(this);
  }
}

class Server implements Subscription {
  inFlight = 0;
  closing = false;
  /** True while `done` starts queued requests, so those that finish at once do not recurse into it. */
  draining = false;
  readonly queue = new Queue<Call>();
  private idle: (() => void) | undefined;

  constructor(
    readonly opts: ServeOptions,
    readonly handler: RequestHandler,
    private readonly detach: (s: Server) => void,
  ) {}

  checkIdle(): void {
    if (this.inFlight === 0 && this.queue.length === 0 && this.idle) this.idle();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.detach(this);
    if (this.inFlight > 0 || this.queue.length > 0) await new Promise<void>((r) => (this.idle = r));
  }
}

const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;

export class MemoryTransport implements Transport {
  readonly name = "memory";
  readonly deadLetterStore: DeadLetterStore;
  /** Present only with a journal: without one the transport retains nothing. */
  readonly history?: (types: readonly string[]) => Promise<EventHistory>;
  readonly recent?: (types: readonly string[], since: number) => Promise<AsyncIterable<PositionedEvent>>;
  private readonly services = new Map<string, { servers: Server[]; next: number }>();
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly timer = new DeadlineTimer();
  private readonly faithful: boolean;
  private readonly maxPayload: number;
  private readonly maxBacklog: number;
  private readonly journal: EventJournal | undefined;
  private readonly upkeep: JournalUpkeep | undefined;
  private readonly memoryDeadLetters: MemoryDeadLetterStore | undefined;
  private connected = false;
  private broadcastSeq = 0;

  constructor(options: MemoryTransportOptions = {}) {
    this.faithful = options.faithful ?? false;
    this.maxPayload = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.maxBacklog = options.maxBacklog ?? 100_000;
    const journal = options.journal;
    this.journal = journal;
    if (journal === undefined) {
      this.memoryDeadLetters = new MemoryDeadLetterStore((letter) => this.redeliver(letter));
      this.deadLetterStore = this.memoryDeadLetters;
      return;
    }
    const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    if (!(retentionMs > 0)) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `retentionMs must be a positive number, got ${retentionMs}`);
    }
    this.upkeep = new JournalUpkeep(journal, retentionMs, () => this.pickUp());
    this.deadLetterStore = pickingUpAfterRetry(journal.deadLetters, () => this.pickUp());
    this.history = async (types) => journal.history(types);
    this.recent = async (types, since) => positioned(journal.recent(types, since));
  }

  async connect(): Promise<void> {
    try {
      this.upkeep?.start();
    } catch (err) {
      throw unavailable("the event journal cannot be written", err);
    }
    this.connected = true;
  }

  async close(): Promise<void> {
    this.connected = false;
    this.upkeep?.stop();
    this.journal?.close();
    for (const call of this.timer.drain() as Call[]) this.fail(call, unavailable("transport closed"));
  }

  async isAvailable(service: string): Promise<boolean> {
    return (this.services.get(service)?.servers.length ?? 0) > 0;
  }

  // The timeout is the request's own deadline (`meta.deadline`), so RequestOptions are not needed here.
  request(req: RequestEnvelope): Promise<unknown> {
    if (!this.connected) return Promise.reject(unavailable("transport is not connected"));
    const server = this.pickServer(req);
    if (server instanceof FlotillaError) return Promise.reject(server);
    let sent = req;
    if (this.faithful) {
      try {
        // The payload crosses as bytes would; the metadata is immutable objects either way.
        const payload = roundTrip(req.payload, this.maxPayload);
        sent = {
          service: req.service,
          action: req.action,
          meta: req.meta,
          payload,
          headers: req.headers,
          instance: req.instance,
        };
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise((resolve, reject) => {
      // The caller's deadline is this call's: no second clock read.
      const call = new Call(req.meta.deadline, sent, resolve, reject, this.timedOut);
      if (server.inFlight < server.opts.maxInFlight) {
        this.track(call);
        this.run(server, call);
      } else if (server.queue.length < server.opts.maxQueued) {
        this.track(call);
        server.queue.push(call);
      } else {
        reject(FlotillaError.of(FlotillaCodes.OVERLOADED, `${server.opts.instance} has too many queued requests`));
      }
    });
  }

  async serve(opts: ServeOptions, handler: RequestHandler): Promise<Subscription> {
    let entry = this.services.get(opts.service);
    if (entry === undefined) {
      entry = { servers: [], next: 0 };
      this.services.set(opts.service, entry);
    }
    const server = new Server(opts, handler, (s) => {
      const list = this.services.get(opts.service)?.servers;
      const i = list?.indexOf(s) ?? -1;
      if (list && i >= 0) list.splice(i, 1);
    });
    entry.servers.push(server);
    return server;
  }

  async publish(event: EventEnvelope): Promise<void> {
    if (!this.connected) throw unavailable("transport is not connected");
    const stored = this.faithful ? roundTrip(event, this.maxPayload) : event;
    // A dead letter's retry goes to its group only.
    const only = event.headers[Headers.retryGroup];
    const targets: ConsumerGroup[] = [];
    for (const group of this.groups.values()) {
      if (only === undefined ? group.types.includes(event.type) : group.name === only) targets.push(group);
    }
    // All or nothing: a publish refused for one full group is not half-delivered to the others.
    const full = targets.find((g) => g.depth >= this.maxBacklog);
    if (full) throw FlotillaError.of(FlotillaCodes.OVERLOADED, `consumer group ${full.name} backlog is full`);
    let seq = 0;
    if (this.journal !== undefined) {
      const appended = this.append(this.journal, stored);
      if (appended === undefined) return; // published before: a no-op, as JetStream does with Nats-Msg-Id
      seq = appended;
    }
    // Broadcast groups get the sequence too: it is the event's position, which live push hands on.
    for (const group of targets) group.enqueue(stored, seq);
  }

  async subscribe(opts: SubscribeOptions, handler: EventHandler): Promise<Subscription> {
    const broadcast = opts.group === undefined;
    const name = opts.group ?? `~broadcast.${opts.instance}.${++this.broadcastSeq}`;
    let group = this.groups.get(name);
    if (group === undefined) {
      const journal = broadcast ? undefined : this.journal;
      group = new ConsumerGroup(name, opts.types, broadcast, opts, this.groupHooks, journal);
      if (journal !== undefined) {
        try {
          journal.rememberGroup(name, opts.types);
          group.pickUp(); // what earlier processes left pending, oldest first
        } catch (err) {
          throw unavailable(`the event journal cannot be read for ${name}`, err);
        }
      }
      this.groups.set(name, group);
    }
    return group.join(opts, handler);
  }

  /** Events waiting per durable group of this process (consumer lag): queued or waiting out a backoff. */
  async lag(): Promise<Record<string, number>> {
    const lag: Record<string, number> = {};
    for (const group of this.groups.values()) if (!group.broadcast) lag[group.name] = group.depth;
    return lag;
  }

  private readonly groupHooks = {
    copy: (e: EventEnvelope) => (this.faithful ? roundTrip(e) : e),
    deadLetter: (letter: DeadLetter, seq: number) => {
      if (this.journal === undefined) this.memoryDeadLetters?.add(letter);
      else this.journal.deadLetter(letter, seq);
    },
    dispose: (g: ConsumerGroup) => this.groups.delete(g.name),
  };

  private append(journal: EventJournal, event: EventEnvelope): number | undefined {
    try {
      return journal.append(event);
    } catch (err) {
      throw err instanceof FlotillaError ? err : unavailable("the event journal did not accept the event", err);
    }
  }

  /** Loads pending entries appended by others (an operator's retry) into this process's durable groups. */
  private pickUp(): void {
    for (const group of this.groups.values()) group.pickUp();
  }

  /** Without a journal: a dead letter's retry is a publish to its group only, which must still exist. */
  private redeliver(letter: DeadLetter): Promise<void> {
    const group = this.groups.get(letter.group);
    if (group === undefined || group.broadcast) {
      return Promise.reject(
        FlotillaError.of(
          FlotillaCodes.DEAD_LETTER_NOT_RETRYABLE,
          `consumer group ${letter.group} is gone: its letter cannot be retried`,
        ),
      );
    }
    const headers = { ...letter.event.headers, [Headers.retryGroup]: letter.group };
    return this.publish({ ...letter.event, headers });
  }

  private pickServer(req: RequestEnvelope): Server | FlotillaError {
    const service = req.service;
    const entry = this.services.get(service);
    const servers = entry?.servers;
    if (entry === undefined || servers === undefined || servers.length === 0) {
      return FlotillaError.of(FlotillaCodes.NO_INSTANCE, `no instance of ${service} is available`);
    }
    if (req.instance !== undefined) {
      const server = servers.find((s) => s.opts.instance === req.instance);
      return server ?? FlotillaError.of(FlotillaCodes.NO_INSTANCE, `instance ${req.instance} is not available`);
    }
    entry.next = (entry.next + 1) % servers.length;
    return servers[entry.next] as Server;
  }

  private track(call: Call): void {
    this.timer.track(call);
  }

  private run(server: Server, call: Call): void {
    server.inFlight++;
    let result: unknown;
    try {
      result = server.handler(call.req);
    } catch (err) {
      this.done(server);
      this.fail(call, err);
      return;
    }
    if (!isPromise(result)) {
      // Answered at once: no promise hop between the handler and the caller.
      this.done(server);
      this.reply(call, result);
      return;
    }
    result.then(
      (value) => {
        this.done(server);
        this.reply(call, value);
      },
      (err: unknown) => {
        this.done(server);
        this.fail(call, err);
      },
    );
  }

  private reply(call: Call, value: unknown): void {
    if (call.settled) return;
    if (!this.faithful) {
      this.succeed(call, value);
      return;
    }
    try {
      this.succeed(call, roundTrip(value, this.maxPayload));
    } catch (err) {
      this.fail(call, replyError(err));
    }
  }

  /** One request finished: start queued ones while there is room (not re-entered by those that finish at once). */
  private done(server: Server): void {
    server.inFlight--;
    if (server.draining) return;
    server.draining = true;
    while (server.inFlight < server.opts.maxInFlight) {
      const call = server.queue.shift();
      if (call === undefined) break;
      // A request whose caller already gave up is dropped without running the handler.
      if (!call.settled) this.run(server, call);
    }
    server.draining = false;
    server.checkIdle();
  }

  private readonly timedOut = (call: Call): void => {
    this.fail(call, new FlotillaError("DEADLINE_EXCEEDED", `${call.req.action} did not answer in time`));
  };

  private succeed(call: Call, value: unknown): void {
    if (call.settled) return;
    call.settled = true;
    this.timer.untrack(call);
    call.resolve(value);
  }

  private fail(call: Call, err: unknown): void {
    if (call.settled) return;
    call.settled = true;
    this.timer.untrack(call);
    // Errors always cross as they would on the wire, so both modes hand callers the same shape.
    call.reject(fromWire(toWire(err)));
  }
}

/** A journal's dead letters, whose retries this process then takes at once rather than at its next poll. */
function pickingUpAfterRetry(store: DeadLetterStore, pickUp: () => void): DeadLetterStore {
  return {
    list: (group) => store.list(group),
    get: (id) => store.get(id),
    drop: (id) => store.drop(id),
    async retry(id) {
      await store.retry(id);
      pickUp();
    },
  };
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === "function";
}

/** The journal's entries as the transport's history names them: one stream, the journal's sequence. */
async function* positioned(
  entries: AsyncIterable<{ readonly seq: number; readonly event: EventEnvelope }>,
): AsyncGenerator<PositionedEvent> {
  for await (const { seq, event } of entries) yield { event, position: { stream: JOURNAL_STREAM, seq } };
}
