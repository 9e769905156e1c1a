/**
 * @module The outbox relay: publishes a service's committed events in order and sends its commands,
 * one active relay per service.
 */
import { FlotillaCodes, FlotillaError, type OutboundMessage, type ResourceOwner } from "@flotilla/core";
import type { Kysely } from "kysely";
import type { SystemTables } from "../system-tables.js";

export interface RelayOptions {
  /**
   * How often the relay looks for events without being woken (other instances' commits; default 1 s).
   * 0 or false: never; only wake-ups (local commits, PostgreSQL's NOTIFY, retries) start a round.
   */
  pollMs?: number | false;
  /** Events read and published per round (default 256). */
  batchSize?: number;
  /** How long the relay lease lasts unless renewed (default 10 s): an instance's crash delays relaying this much. */
  leaseMs?: number;
  /** Inbox records older than this are pruned (default 7 days, the event streams' retention). */
  inboxRetentionMs?: number;
  /** After a failed round the relay retries with exponential backoff from 200 ms up to this (default 30 s). */
  maxRetryDelayMs?: number;
  /**
   * Published rows are deleted together, once this many are waiting or `deleteDelayMs` after the first
   * (defaults 32 and 100 ms): a statement per batch instead of per event. A crash republishes at most
   * those, which the broker and the inboxes deduplicate.
   */
  deleteBatch?: number;
  deleteDelayMs?: number;
  /**
   * A wake-up (a local commit, a NOTIFY, the poll) starts a round this much later (default 0: at once), so
   * that one round reads and publishes the events of every commit in that window: a busy writer pays
   * one relay read per several events instead of one per event. 0: at once.
   */
  wakeDelayMs?: number;
  /**
   * Commands sent at once (default 256). A command is a request whose outcome its orchestrator records
   * (it may take the request's whole timeout): commands are not awaited by a round, so a slow one never
   * holds back the events behind it.
   */
  maxCommandsInFlight?: number;
}

export interface OutboxBacklog {
  /** Committed messages not yet confirmed by the broker (events) or settled (commands). */
  readonly events: number;
  /** Age of the oldest of them in ms (0 when none). */
  readonly oldestAgeMs: number;
}

const HOUR_MS = 3_600_000;

/**
 * One per service instance. Only the instance holding the lease publishes (the others stand by and
 * take over when it lapses); rows are deleted only after the transport confirmed the publish, so a
 * crash in between republishes them, which the broker deduplicates by event id.
 */
export class OutboxRelay {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private leaseUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastPrune = 0;
  private readonly pollMs: number | false;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly inboxRetentionMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly deleteBatch: number;
  private readonly deleteDelayMs: number;
  /** Sequences published (confirmed) but not deleted yet; the next rounds leave them out. */
  private undeleted: number[] = [];
  private deleteDue = false;
  private deleteTimer: NodeJS.Timeout | undefined;
  private readonly wakeDelayMs: number;
  private wakeTimer: NodeJS.Timeout | undefined;
  private readonly maxCommands: number;
  /** Commands sent whose outcome is not recorded yet: left out of rounds until it is. */
  private readonly commands = new Map<number, Promise<void>>();
  /** Commands whose outcome could not be recorded, with when they may be sent again. */
  private readonly cooling = new Map<number, number>();
  private commandFailures = 0;
  /** The earliest held-back message this relay knows of, and its timer. */
  private dueAt = Number.POSITIVE_INFINITY;
  private dueTimer: NodeJS.Timeout | undefined;
  /** Look for held-back messages written elsewhere (set at start and by each poll). */
  private lookForDelayed = true;

  constructor(
    private readonly db: Kysely<SystemTables>,
    private readonly owner: ResourceOwner,
    options: RelayOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1_000;
    this.batchSize = options.batchSize ?? 256;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.inboxRetentionMs = options.inboxRetentionMs ?? 7 * 24 * HOUR_MS;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
    this.deleteBatch = options.deleteBatch ?? 32;
    this.deleteDelayMs = options.deleteDelayMs ?? 100;
    this.wakeDelayMs = options.wakeDelayMs ?? 0;
    this.maxCommands = options.maxCommandsInFlight ?? 256;
  }

  start(): void {
    if (this.pollMs !== false && this.pollMs > 0) {
      this.timer = setInterval(this.poll, this.pollMs);
      this.timer.unref();
    }
    this.runSoon();
  }

  /**
   * Asks for a round `wakeDelayMs` from now (wakes meanwhile join it); rounds never overlap, and a
   * wake during one runs another after it.
   */
  readonly wake = (): void => {
    if (this.stopped || this.wakeTimer !== undefined) return;
    if (this.wakeDelayMs <= 0) {
      this.runSoon();
      return;
    }
    this.wakeTimer = setTimeout(this.fire, this.wakeDelayMs);
  };

  private readonly poll = (): void => {
    this.lookForDelayed = true;
    this.wake();
  };

  /** Wakes the relay at `at` (epoch ms) for a message held back until then; the earliest such time wins. */
  readonly wakeAt = (at: number): void => {
    if (this.stopped || at >= this.dueAt) return;
    this.dueAt = at;
    clearTimeout(this.dueTimer);
    this.dueTimer = setTimeout(
      () => {
        this.dueAt = Number.POSITIVE_INFINITY;
        this.dueTimer = undefined;
        this.wake();
      },
      Math.max(0, at - Date.now()),
    );
    this.dueTimer.unref();
  };

  private readonly fire = (): void => {
    this.wakeTimer = undefined;
    this.runSoon();
  };

  private readonly runSoon = (): void => {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.rounds().finally(() => {
      this.running = undefined;
    });
  };

  /** Stops after the round in flight and hands the lease back, so a standby instance takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.deleteTimer);
    clearTimeout(this.wakeTimer);
    clearTimeout(this.dueTimer);
    this.wakeTimer = undefined;
    await this.running;
    // Their outcomes are recorded (or the commands stay, to be sent again): bounded by their timeouts.
    await Promise.all(this.commands.values());
    await this.deletePublished().catch((err: unknown) =>
      this.owner.log.warn({ err }, "outbox relay could not delete published rows; they will be published again"),
    );
    if (this.leaseUntil > 0) {
      await this.db
        .updateTable("flotilla_outbox_lease")
        .set({ holder: null, expires_at: 0 })
        .where("name", "=", "relay")
        .where("holder", "=", this.owner.instance)
        .execute()
        .catch((err: unknown) => this.owner.log.warn({ err }, "outbox relay could not hand its lease back"));
    }
  }

  /** Whether this instance holds the relay lease now (commits elsewhere then need a NOTIFY to reach it). */
  get holdsLease(): boolean {
    return !this.stopped && Date.now() < this.leaseUntil;
  }

  async backlog(): Promise<OutboxBacklog> {
    let query = this.db
      .selectFrom("flotilla_outbox")
      .select((eb) => [eb.fn.countAll<number>().as("events"), eb.fn.min("created_at").as("oldest")]);
    if (this.undeleted.length > 0) query = query.where("seq", "not in", this.undeleted);
    const row = await query.executeTakeFirstOrThrow();
    const events = Number(row.events);
    return { events, oldestAgeMs: events === 0 ? 0 : Math.max(0, Date.now() - Number(row.oldest)) };
  }

  private async rounds(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.round();
        this.failures = 0;
      } catch (err) {
        this.failures++;
        const delay = Math.min(this.maxRetryDelayMs, 100 * 2 ** Math.min(this.failures, 9));
        this.owner.log.warn({ err, retryInMs: delay }, "outbox relay failed; retrying");
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(this.runSoon, delay);
        this.retryTimer.unref();
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async round(): Promise<void> {
    try {
      if (!(await this.holdLease())) return;
      await this.pruneInbox();
      await this.publishPending();
    } finally {
      await this.settleDeletes();
    }
  }

  private async publishPending(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      const skip = this.skipped(now);
      let query = this.db
        .selectFrom("flotilla_outbox")
        .select(["seq", "kind", "envelope"])
        .where("available_at", "<=", now)
        .orderBy("seq")
        .limit(this.batchSize);
      // Not a cursor: on PostgreSQL a row with a lower sequence can commit after a higher one.
      if (skip.length > 0) query = query.where("seq", "not in", skip);
      const rows = await query.execute();
      const events = rows.filter((row) => row.kind !== "command");
      for (const row of rows) if (row.kind === "command") this.sendCommand(row.seq, row.envelope);
      // Published together, in order: one connection keeps that order, and the broker confirms each.
      const results = await Promise.allSettled(
        events.map((row) => this.owner.transport.send(message(row.kind, row.envelope))),
      );
      events.forEach((row, i) => {
        if (results[i]?.status === "fulfilled") this.undeleted.push(row.seq);
      });
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed !== undefined) throw failed.reason;
      // Commands past the in-flight limit wait for the round that follows a settled one.
      const full = this.commands.size >= this.maxCommands;
      if (full || rows.length < this.batchSize || !(await this.holdLease())) break;
    }
    if (this.lookForDelayed && !this.stopped) await this.findDelayed();
  }

  /** Rows a round leaves out: published but not deleted yet, commands in flight or cooling down. */
  private skipped(now: number): number[] {
    const skip = [...this.undeleted, ...this.commands.keys()];
    for (const [seq, until] of this.cooling) {
      if (until > now) skip.push(seq);
      else this.cooling.delete(seq);
    }
    return skip;
  }

  /**
   * Sends a command without holding the round up; once its orchestrator recorded the outcome the row
   * is deleted like a published event's. A command whose outcome could not be recorded is sent again
   * after a backoff (its orchestrator ignores an outcome it already has).
   */
  private sendCommand(seq: number, envelope: string): void {
    if (this.commands.has(seq) || this.commands.size >= this.maxCommands) return;
    const sent = this.owner.transport.send(message("command", envelope)).then(
      () => {
        this.commandFailures = 0;
        this.commands.delete(seq);
        this.undeleted.push(seq);
        this.deleteSoon();
      },
      (err: unknown) => {
        this.commands.delete(seq);
        this.commandFailures++;
        const delay = Math.min(this.maxRetryDelayMs, 100 * 2 ** Math.min(this.commandFailures, 9));
        this.owner.log.warn({ err, retryInMs: delay }, "a command's outcome was not recorded; sending it again later");
        this.cooling.set(seq, Date.now() + delay);
        this.wakeAt(Date.now() + delay);
      },
    );
    this.commands.set(seq, sent);
  }

  /** The earliest message held back until later (written here or by another instance): a wake-up for it. */
  private async findDelayed(): Promise<void> {
    this.lookForDelayed = false;
    const row = await this.db
      .selectFrom("flotilla_outbox")
      .select((eb) => eb.fn.min("available_at").as("next"))
      .where("available_at", ">", Date.now())
      .executeTakeFirst();
    if (row?.next != null) this.wakeAt(Number(row.next));
  }

  /** Deletes the published rows when enough wait or their delay is up; otherwise makes sure it comes. */
  private async settleDeletes(): Promise<void> {
    if (this.undeleted.length >= this.deleteBatch || this.deleteDue) {
      await this.deletePublished();
    } else {
      this.deleteSoon();
    }
  }

  /** A round that deletes published rows `deleteDelayMs` from now, unless one is already due. */
  private deleteSoon(): void {
    if (this.undeleted.length === 0 || this.deleteTimer !== undefined || this.stopped) return;
    this.deleteTimer = setTimeout(() => {
      this.deleteDue = true;
      this.runSoon();
    }, this.deleteDelayMs);
    this.deleteTimer.unref();
  }

  private async deletePublished(): Promise<void> {
    clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
    this.deleteDue = false;
    const count = this.undeleted.length;
    if (count === 0) return;
    await this.db.deleteFrom("flotilla_outbox").where("seq", "in", this.undeleted.slice(0, count)).execute();
    // Only now: until the delete committed, rounds must keep leaving these rows out. Commands settled
    // meanwhile were appended after them and stay listed.
    this.undeleted.splice(0, count);
  }

  /** Takes or renews the lease; false while another live instance holds it. */
  private async holdLease(): Promise<boolean> {
    const now = Date.now();
    // Renewed once a third of it has passed: a relay never works on a lease about to lapse.
    if (now < this.leaseUntil - (this.leaseMs * 2) / 3) return true;
    const result = await this.db
      .updateTable("flotilla_outbox_lease")
      .set({ holder: this.owner.instance, expires_at: now + this.leaseMs })
      .where("name", "=", "relay")
      .where((eb) =>
        eb.or([eb("holder", "=", this.owner.instance), eb("holder", "is", null), eb("expires_at", "<", now)]),
      )
      .executeTakeFirst();
    const held = Number(result.numUpdatedRows) > 0;
    if (held && this.leaseUntil === 0) this.owner.log.debug("outbox relay took the lease");
    this.leaseUntil = held ? now + this.leaseMs : 0;
    return held;
  }

  private async pruneInbox(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPrune < HOUR_MS) return;
    this.lastPrune = now;
    await this.db
      .deleteFrom("flotilla_inbox")
      .where("handled_at", "<", now - this.inboxRetentionMs)
      .execute();
  }
}

/** A stored row as the message it was; a kind this version does not know stays in the outbox, loudly. */
function message(kind: string, envelope: string): OutboundMessage {
  if (kind !== "event" && kind !== "command") {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `outbox holds a message of kind "${kind}", unknown to this version`);
  }
  return { kind, envelope: JSON.parse(envelope) } as OutboundMessage;
}
