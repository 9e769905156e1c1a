/**
 * @module Waits until everything written to stdout has been handed to the pipe: writes to a pipe are
 * asynchronous, and `process.exit()` drops what is still queued (a latency result is ~250 KB of JSON).
 */
export function flushStdout(): Promise<void> {
  return new Promise((resolve) => process.stdout.write("", () => resolve()));
}
