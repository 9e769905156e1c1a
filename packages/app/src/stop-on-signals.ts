/** @module Graceful stop on SIGINT/SIGTERM, bounded in time, for processes that run an app. */

const STOP_TIMEOUT_MS = 20_000;

/**
 * Stops once on the first SIGINT or SIGTERM, prints `Flotilla <name> stopped` and exits 0; exits 1 if
 * the stop fails or takes longer than `timeoutMs`.
 */
export function stopOnSignals(running: { stop(): Promise<void> }, name: string, timeoutMs = STOP_TIMEOUT_MS): void {
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      // npm and the terminal each deliver the signal, so repeats are expected: one stop, bounded in time.
      if (stopping) return;
      stopping = true;
      setTimeout(() => {
        console.error(`${name} did not stop within ${timeoutMs} ms; exiting`);
        process.exit(1);
      }, timeoutMs).unref();
      running.stop().then(
        () => {
          console.log(`Flotilla ${name} stopped`);
          process.exit(0);
        },
        (err: unknown) => {
          console.error(`${name} failed to stop cleanly`, err);
          process.exit(1);
        },
      );
    });
  }
}
