/** @module One shared coarse timer for many deadlines, instead of a setTimeout per call. */

const UNTRACKED = 0;
const YOUNG = 1;
const BUCKETED = 2;

/** Something with a deadline; extend it and implement `onExpire`. */
export abstract class DeadlineEntry {
  /** Where the timer holds this entry; owned by the timer. */
  timerState = UNTRACKED;
  constructor(readonly deadline: number) {}
  abstract onExpire(): void;
}

const YOUNG_COMPACT_AT = 4096;

/**
 * Deadlines for many short-lived calls at low cost per call.
 *
 * Most calls settle within the same turn of the event loop. A new entry therefore waits in a plain
 * array ("young"); only entries still pending when the loop turns (setImmediate) move into buckets
 * keyed by deadline at `resolutionMs` granularity, swept by one unref'd interval. A call that settles
 * quickly costs an array push and a flag, no hashing. Expiry fires up to `resolutionMs` late (or
 * later if the loop is busy), never early.
 */
export class DeadlineTimer {
  private readonly buckets = new Map<number, Set<DeadlineEntry>>();
  private young: DeadlineEntry[] = [];
  private promoting = false;
  private timer: NodeJS.Timeout | undefined;
  private bucketed = 0;

  constructor(private readonly resolutionMs = 10) {}

  track(entry: DeadlineEntry): void {
    entry.timerState = YOUNG;
    this.young.push(entry);
    if (!this.promoting) {
      this.promoting = true;
      setImmediate(this.promote);
    } else if (this.young.length >= YOUNG_COMPACT_AT) {
      // A long run of microtasks can keep setImmediate waiting: drop settled entries meanwhile.
      this.young = this.young.filter((e) => e.timerState === YOUNG);
    }
  }

  untrack(entry: DeadlineEntry): void {
    if (entry.timerState === BUCKETED) {
      // An emptied bucket stays until the sweep passes its time, for the next calls to reuse.
      if (this.buckets.get(this.keyOf(entry))?.delete(entry)) this.bucketed--;
    }
    entry.timerState = UNTRACKED;
  }

  get pending(): number {
    let young = 0;
    for (const e of this.young) if (e.timerState === YOUNG) young++;
    return young + this.bucketed;
  }

  /** Removes and returns every tracked entry (e.g. to fail them all when a connection closes). */
  drain(): DeadlineEntry[] {
    const all = this.young.filter((e) => e.timerState === YOUNG);
    for (const bucket of this.buckets.values()) all.push(...bucket);
    this.young = [];
    this.buckets.clear();
    this.bucketed = 0;
    for (const e of all) e.timerState = UNTRACKED;
    return all;
  }

  private readonly promote = (): void => {
    this.promoting = false;
    const young = this.young;
    this.young = [];
    for (const entry of young) {
      if (entry.timerState !== YOUNG) continue;
      const key = this.keyOf(entry);
      let bucket = this.buckets.get(key);
      if (bucket === undefined) {
        bucket = new Set();
        this.buckets.set(key, bucket);
      }
      bucket.add(entry);
      entry.timerState = BUCKETED;
      this.bucketed++;
    }
    if (this.bucketed > 0 && this.timer === undefined) {
      this.timer = setInterval(this.sweep, this.resolutionMs);
      this.timer.unref();
    }
  };

  private readonly sweep = (): void => {
    const nowKey = Math.floor(Date.now() / this.resolutionMs);
    for (const [key, bucket] of this.buckets) {
      if (key > nowKey) continue;
      this.buckets.delete(key);
      for (const entry of bucket) {
        this.bucketed--;
        entry.timerState = UNTRACKED;
        entry.onExpire();
      }
    }
    if (this.bucketed === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  };

  private keyOf(entry: DeadlineEntry): number {
    return Math.ceil(entry.deadline / this.resolutionMs);
  }
}
