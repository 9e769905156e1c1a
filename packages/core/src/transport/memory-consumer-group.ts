/** @module In-process consumer group: a backlog whose members pull events when they have capacity. */
import { isPoison, toWire } from "../errors.js";
import { Queue } from "../queue.js";
import type { EventEnvelope } from "./envelope.js";
import type { EventJournal, JournalEntry } from "./event-journal.js";
import type { DeadLetter, EventHandler, SubscribeOptions, Subscription } from "./transport.js";

/** The stream of positions in the event journal: one journal, so one stream. */
export const JOURNAL_STREAM = "journal";

interface Pending {
  readonly event: EventEnvelope;
  readonly attempt: number;
  /** The event's journal sequence; 0 without a journal. */
  readonly seq: number;
}

class Member implements Subscription {
  inFlight = 0;
  closing = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly group: ConsumerGroup,
    readonly opts: SubscribeOptions,
    readonly handler: EventHandler,
  ) {}

  get hasCapacity(): boolean {
    return !this.closing && this.inFlight < this.opts.maxInFlight;
  }

  settled(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idle) this.idle();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.group.leave(this);
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }
}

export interface GroupHooks {
  /** Makes the copy a handler receives (a JSON round trip in wire-faithful mode). */
  copy(event: EventEnvelope): EventEnvelope;
  /** Keeps a letter; `seq` is the event's journal sequence (0 without a journal). */
  deadLetter(letter: DeadLetter, seq: number): void;
  /** Called when a broadcast group has lost its last member and should be forgotten. */
  dispose(group: ConsumerGroup): void;
}

/**
 * Mirrors a JetStream durable consumer: events wait in the backlog while no member can take them,
 * each goes to one member, a failure is redelivered after a backoff, and after `maxDeliveries`
 * failures the event is dead-lettered with its error.
 *
 * With a journal (durable groups only), the group records acks and failures there, and `held`
 * tracks the sequences it has in memory (waiting, in flight or waiting out a backoff), so pending
 * entries appended by another process can be told from its own.
 */
export class ConsumerGroup {
  private readonly backlog = new Queue<Pending>();
  private readonly members: Member[] = [];
  private readonly held: Set<number> | undefined;
  private next = 0;
  private scheduled = false;
  private retrying = 0;

  constructor(
    readonly name: string,
    readonly types: readonly string[],
    readonly broadcast: boolean,
    private readonly settings: Pick<SubscribeOptions, "maxDeliveries" | "backoffMs">,
    private readonly hooks: GroupHooks,
    private readonly journal: EventJournal | undefined,
  ) {
    this.held = journal === undefined ? undefined : new Set();
  }

  get depth(): number {
    return this.backlog.length + this.retrying;
  }

  join(opts: SubscribeOptions, handler: EventHandler): Member {
    const member = new Member(this, opts, handler);
    this.members.push(member);
    this.schedule();
    return member;
  }

  leave(member: Member): void {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    if (this.broadcast && this.members.length === 0) this.hooks.dispose(this);
  }

  enqueue(event: EventEnvelope, seq: number): void {
    this.backlog.push({ event, attempt: 1, seq });
    this.held?.add(seq);
    this.schedule();
  }

  /** Takes the journal's pending entries this group does not hold yet, oldest first, with their attempts. */
  pickUp(): void {
    const { journal, held } = this;
    if (journal === undefined || held === undefined) return;
    const from = journal.pendingSeqs(this.name).find((seq) => !held.has(seq));
    if (from === undefined) return;
    for (const entry of journal.pending(this.name, from)) this.take(entry, held);
    this.schedule();
  }

  private take(entry: JournalEntry, held: Set<number>): void {
    if (held.has(entry.seq)) return;
    held.add(entry.seq);
    this.backlog.push({ event: entry.event, attempt: entry.failures + 1, seq: entry.seq });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Delivery never runs inside the publisher's call stack.
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.backlog.length > 0) {
      const member = this.pickMember();
      if (member === undefined) return;
      this.deliver(member, this.backlog.shift() as Pending);
    }
  }

  private pickMember(): Member | undefined {
    const n = this.members.length;
    for (let k = 0; k < n; k++) {
      const member = this.members[(this.next + k) % n] as Member;
      if (member.hasCapacity) {
        this.next = (this.next + k + 1) % n;
        return member;
      }
    }
    return undefined;
  }

  private deliver(member: Member, item: Pending): void {
    member.inFlight++;
    let result: Promise<void>;
    try {
      // The journal's sequence is the event's position in the history (`history()` reads the same journal).
      const delivery =
        item.seq > 0
          ? { attempt: item.attempt, position: { stream: JOURNAL_STREAM, seq: item.seq } }
          : { attempt: item.attempt };
      result = member.handler(this.hooks.copy(item.event), delivery);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      () => {
        member.settled();
        if (this.journal !== undefined) this.acked(this.journal, item);
        this.schedule();
      },
      (err: unknown) => {
        member.settled();
        this.failed(item, err);
        this.schedule();
      },
    );
  }

  private acked(journal: EventJournal, item: Pending): void {
    this.held?.delete(item.seq);
    try {
      journal.ack(this.name, item.seq);
    } catch {
      // An ack the journal did not take (closed, or its disk failed) means a redelivery at the next
      // start, which handlers tolerate: delivery is at least once.
    }
  }

  private failed(item: Pending, err: unknown): void {
    const wire = toWire(err);
    if (item.attempt >= this.settings.maxDeliveries || isPoison(wire.status)) {
      this.held?.delete(item.seq);
      const letter = {
        event: item.event,
        group: this.name,
        attempts: item.attempt,
        error: wire,
        failedAt: new Date().toISOString(),
      };
      try {
        this.hooks.deadLetter(letter, item.seq);
      } catch {
        // Left pending in the journal, the event comes back at the next start with its attempts.
      }
      return;
    }
    try {
      this.journal?.failed(this.name, item.seq, item.attempt);
    } catch {
      // The redelivery below still happens; only a restart would count this attempt again.
    }
    this.retrying++;
    const retry = setTimeout(() => {
      this.retrying--;
      this.backlog.unshift({ event: item.event, attempt: item.attempt + 1, seq: item.seq });
      this.schedule();
    }, this.settings.backoffMs(item.attempt));
    retry.unref();
  }
}
