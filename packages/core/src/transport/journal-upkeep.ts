/** @module The in-process transport's periodic journal work: take what other processes appended, prune old events. */
import type { EventJournal } from "./event-journal.js";

/** How often the journal is checked for writes by other processes (a dead letter retried by an operator). */
const POLL_MS = 500;
const PRUNE_EVERY_MS = 3_600_000;

export class JournalUpkeep {
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly journal: EventJournal,
    private readonly retentionMs: number,
    /** Loads new pending entries into the groups of this process. */
    private readonly pickUp: () => void,
  ) {}

  /** Prunes at once (a journal that cannot be written fails the start), then on unref'd timers. */
  start(): void {
    if (this.timers.length > 0) return;
    this.prune();
    this.timers = [
      setInterval(() => this.quietly(() => this.poll()), POLL_MS),
      setInterval(() => this.quietly(() => this.prune()), PRUNE_EVERY_MS),
    ];
    for (const timer of this.timers) timer.unref();
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  private poll(): void {
    if (this.journal.changedElsewhere()) this.pickUp();
  }

  private prune(): void {
    this.journal.prune(Date.now() - this.retentionMs);
  }

  /** A failed round (the file locked past its busy timeout) is simply tried again on the next tick. */
  private quietly(work: () => void): void {
    try {
      work();
    } catch {
      // next tick
    }
  }
}
