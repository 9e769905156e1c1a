/** @module One shared coarse timer for many deadlines, instead of a setTimeout per call. */

export interface DeadlineEntry {
  readonly deadline: number;
  onExpire(): void;
}

/**
 * Buckets entries by deadline at `resolutionMs` granularity and sweeps expired buckets on one
 * unref'd timer. Tracking and untracking are a Set insert/delete, which keeps the per-call cost of a
 * deadline far below arming a timer per call. Expiry fires up to `resolutionMs` late, never early.
 */
export class DeadlineTimer {
  private readonly buckets = new Map<number, Set<DeadlineEntry>>();
  private timer: NodeJS.Timeout | undefined;
  private size = 0;

  constructor(private readonly resolutionMs = 10) {}

  track(entry: DeadlineEntry): void {
    const key = Math.ceil(entry.deadline / this.resolutionMs);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = new Set();
      this.buckets.set(key, bucket);
    }
    bucket.add(entry);
    this.size++;
    if (this.timer === undefined) this.arm();
  }

  untrack(entry: DeadlineEntry): void {
    const key = Math.ceil(entry.deadline / this.resolutionMs);
    const bucket = this.buckets.get(key);
    if (bucket?.delete(entry)) {
      this.size--;
      if (bucket.size === 0) this.buckets.delete(key);
    }
  }

  get pending(): number {
    return this.size;
  }

  private arm(): void {
    // The timer keeps ticking while entries come and go and stops itself once idle, so a steady
    // stream of short calls never arms or clears a timer per call.
    this.timer = setInterval(() => this.sweep(), this.resolutionMs);
    this.timer.unref();
  }

  private sweep(): void {
    const nowKey = Math.floor(Date.now() / this.resolutionMs);
    for (const [key, bucket] of this.buckets) {
      if (key > nowKey) continue;
      this.buckets.delete(key);
      this.size -= bucket.size;
      for (const entry of bucket) entry.onExpire();
    }
    if (this.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
