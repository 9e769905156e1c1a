/** @module The event journal: where the in-process transport keeps events until every durable group handled them. */
import type { EventEnvelope } from "./envelope.js";
import type { DeadLetter, DeadLetterStore, EventHistory } from "./transport.js";

/** An event a durable group has not handled yet. */
export interface JournalEntry {
  /** The event's position in the journal; it grows with every append and is never reused. */
  readonly seq: number;
  readonly event: EventEnvelope;
  /** Deliveries to the group that failed so far. */
  readonly failures: number;
}

/**
 * Durable storage behind the in-process transport (`MemoryTransportOptions.journal`), so a killed
 * process loses no accepted event: like a JetStream stream with one durable consumer per group.
 *
 * Methods are synchronous: the journal is an embedded database (SQLite) whose writes finish without
 * waiting on anything worth yielding for, and a publish that returns after its write keeps the
 * transport's delivery order. One running transport uses a journal file at a time; other processes
 * (an operator's CLI) may open it to list, retry and drop dead letters or to read the history.
 */
export interface EventJournal {
  /**
   * Remembers a durable group and the types it receives (replacing earlier ones), so events
   * published while none of its members runs are kept for it.
   */
  rememberGroup(group: string, types: readonly string[]): void;
  /**
   * Stores the event with one pending entry per remembered group whose types include its type, in
   * one transaction, and returns its sequence. An event carrying `Headers.retryGroup` gets a pending
   * entry for that group only. Returns undefined, changing nothing, when the event's message id was
   * appended before: its `id`, or for a retry a fresh one.
   */
  append(event: EventEnvelope): number | undefined;
  /** Sequences of the group's pending entries, oldest first: cheap, to find what memory lacks. */
  pendingSeqs(group: string): number[];
  /** The group's pending entries from `fromSeq` on, oldest first. */
  pending(group: string, fromSeq: number): JournalEntry[];
  /** The group handled the event: its pending entry goes. */
  ack(group: string, seq: number): void;
  /** A delivery failed: the count survives a restart, so a failing event cannot loop forever. */
  failed(group: string, seq: number, failures: number): void;
  /** Keeps the letter and removes the pending entry `seq` of `letter.group` (if any), in one transaction. */
  deadLetter(letter: DeadLetter, seq: number): void;
  /**
   * The dead letters. A retry appends the event with `Headers.retryGroup` and a pending entry for
   * the letter's group only, and removes the letter, in one transaction; a group the journal does
   * not remember (a broadcast subscriber's) cannot be retried (FAILED_PRECONDITION).
   */
  readonly deadLetters: DeadLetterStore;
  /** Appended events of these types, oldest first, retries left out; see `Transport.history`. */
  history(types: readonly string[]): EventHistory;
  /** Appended events of these types stored at `since` (epoch ms) or later, oldest first, retries left out; see `Transport.recent`. */
  recent(
    types: readonly string[],
    since: number,
  ): AsyncIterable<{ readonly seq: number; readonly event: EventEnvelope }>;
  /** Deletes events appended before `before` (epoch ms) that no group has pending; returns how many. */
  prune(before: number): number;
  /** True when another connection (process) wrote since the last call: time to look for new entries. */
  changedElsewhere(): boolean;
  close(): void;
}
