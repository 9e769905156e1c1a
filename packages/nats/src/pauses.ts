/** @module Backoff pauses that a stop or a reconnect can cut short. */

export class Pauses {
  private readonly sleepers = new Set<() => void>();

  /** Resolves after `ms`, or at once when `wakeAll()` is called meanwhile. */
  pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }
}
