/** @module A service's background sweep: a function run every few milliseconds, one run at a time. */
import type { Logger } from "@flotilla/core";

export interface SweepLoop {
  /** Stops the timer and waits for a sweep still running (so the database is not closed under it). */
  stop(): Promise<void>;
}

/**
 * Runs `sweep` every `everyMs` on an unref'd timer (it never keeps a process alive). A tick that finds
 * the previous sweep still running is skipped rather than stacked. A failing sweep is logged and the
 * next tick tries again: a sweep's work is whatever is due in the database, so nothing is lost by it.
 * Sweeps must be safe with several instances running them on one database at once; this loop only
 * keeps one instance from overlapping itself.
 */
export function startSweepLoop(name: string, everyMs: number, sweep: () => Promise<unknown>, log: Logger): SweepLoop {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = sweep()
      .then(
        () => undefined,
        (err: unknown) => log.error({ err, sweep: name }, "sweep failed; retrying on the next tick"),
      )
      .finally(() => {
        running = undefined;
      });
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** The loops of the instances running in this process, by instance id (tests run several hosts at once). */
export class SweepLoops {
  private readonly loops = new Map<string, SweepLoop[]>();

  add(instance: string | undefined, loop: SweepLoop): void {
    const key = instance ?? "";
    this.loops.set(key, [...(this.loops.get(key) ?? []), loop]);
  }

  async stop(instance: string | undefined): Promise<void> {
    const key = instance ?? "";
    const loops = this.loops.get(key) ?? [];
    this.loops.delete(key);
    await Promise.all(loops.map((l) => l.stop()));
  }
}
