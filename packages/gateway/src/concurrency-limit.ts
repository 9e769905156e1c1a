/** @module A ceiling on requests served at once: past it the gateway sheds load instead of queueing. */

/**
 * Queueing past capacity only adds latency until every request times out together; refusing at once keeps
 * the admitted ones fast and tells clients (and load balancers) to go elsewhere or come back.
 */
export class ConcurrencyLimit {
  private inFlight = 0;

  constructor(readonly max: number) {}

  /** Takes a slot if one is free; the caller must call release() exactly once when it took one. */
  tryAcquire(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight++;
    return true;
  }

  release(): void {
    this.inFlight--;
  }

  get current(): number {
    return this.inFlight;
  }
}
