/** @module The recent marked events a gateway keeps so a caller who reconnects gets what it missed, bounded. */
import { EVERYONE, type Everyone } from "@flotilla/core";

/** One event as live push keeps and sends it. */
export interface LiveEntry {
  /** The user it is marked for, or EVERYONE (kept once, replayed to every caller). */
  readonly user: string | Everyone;
  readonly stream: string;
  readonly seq: number;
  /** When the gateway received it (epoch ms), for the age bound. */
  readonly at: number;
  /** The event's own id: a client drops a repeat by it. */
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  /** Evicted by its user's bound before the global one reached it. */
  evicted: boolean;
  /** The JSON of `{ type, eventId, data }` without its opening brace, encoded once for every connection. */
  json?: string;
  /** Arrival order at this buffer (set by `add`): a user's and everyone's entries replay interleaved by it. */
  arrival?: number;
}

export interface ReplayBounds {
  /** Per user. */
  readonly maxEvents: number;
  readonly maxAgeMs: number;
  /** All users together. */
  readonly maxTotal: number;
}

/**
 * Entries in arrival order, globally and per user. Every bound evicts the oldest, so memory stays
 * within `maxTotal` entries whatever the traffic, and a user's list is always a suffix of arrivals.
 */
export class ReplayBuffer {
  private all: LiveEntry[] = [];
  private head = 0;
  private readonly byUser = new Map<string | Everyone, LiveEntry[]>();
  private arrivals = 0;

  constructor(private readonly bounds: ReplayBounds) {}

  get size(): number {
    return this.all.length - this.head;
  }

  add(entry: LiveEntry): void {
    entry.arrival = ++this.arrivals;
    this.all.push(entry);
    let mine = this.byUser.get(entry.user);
    if (mine === undefined) {
      mine = [];
      this.byUser.set(entry.user, mine);
    }
    mine.push(entry);
    if (mine.length > this.bounds.maxEvents) (mine.shift() as LiveEntry).evicted = true;
    while (this.size > this.bounds.maxTotal) this.evictOldest();
    this.prune(entry.at);
  }

  /**
   * The user's kept entries and everyone's after `after` (stream → last sequence seen; a stream not
   * named: all of it), oldest first. Everyone's entries are bounded like one user's.
   */
  since(user: string, after: ReadonlyMap<string, number>, now: number): LiveEntry[] {
    this.prune(now);
    const missed = (e: LiveEntry) => e.seq > (after.get(e.stream) ?? 0);
    const mine = this.byUser.get(user)?.filter(missed) ?? [];
    const all = this.byUser.get(EVERYONE)?.filter(missed) ?? [];
    if (all.length === 0) return mine;
    if (mine.length === 0) return all;
    return [...mine, ...all].sort((a, b) => (a.arrival as number) - (b.arrival as number));
  }

  /** Drops entries older than the age bound. */
  prune(now: number): void {
    const oldest = now - this.bounds.maxAgeMs;
    while (this.size > 0 && (this.all[this.head] as LiveEntry).at < oldest) this.evictOldest();
  }

  private evictOldest(): void {
    const entry = this.all[this.head] as LiveEntry;
    this.all[this.head] = undefined as never;
    this.head++;
    if (this.head > 1_024 && this.head * 2 > this.all.length) {
      this.all = this.all.slice(this.head);
      this.head = 0;
    }
    if (entry.evicted) return;
    const mine = this.byUser.get(entry.user);
    mine?.shift();
    if (mine?.length === 0) this.byUser.delete(entry.user);
  }
}
