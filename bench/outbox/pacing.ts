/**
 * @module An open-loop pacer: operation i is due at `start + i / rate`, an absolute time, so lateness
 * never accumulates into drift, and an operation is started when due whether or not the earlier ones
 * finished (a slow one does not hold the next ones back, which would hide latency: coordinated
 * omission). When the timer fires late, every operation that has fallen due starts at once.
 */
import { setTimeout as sleep } from "node:timers/promises";

/** CLOCK_MONOTONIC in ns: one clock for every process of the machine. */
export const now = (): number => Number(process.hrtime.bigint());

export interface Paced {
  /** When operation 0 was due (ns, `now()`'s clock); operation i was due at `startNs + i * intervalNs`. */
  startNs: number;
  intervalNs: number;
  /** How late each operation started (ns). */
  lateNs: Float64Array;
  /** Operations whose promise rejected. */
  errors: number;
  firstError: string | undefined;
}

/** Starts `count` operations at `rate` per second (the first ~2 ms from now); resolves once all settled. */
export async function paced(rate: number, count: number, op: (i: number) => Promise<unknown>): Promise<Paced> {
  const intervalNs = 1e9 / rate;
  const startNs = now() + 2e6;
  const lateNs = new Float64Array(count);
  const running: Promise<unknown>[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const failed = (err: unknown) => {
    errors++;
    firstError ??= err instanceof Error ? err.message : String(err);
  };
  let i = 0;
  while (i < count) {
    let t = now();
    while (i < count && startNs + i * intervalNs <= t) {
      lateNs[i] = t - (startNs + i * intervalNs);
      running.push(op(i).catch(failed));
      i++;
      t = now();
    }
    if (i >= count) break;
    // Timers have 1 ms granularity; whatever falls due meanwhile starts when this one fires.
    await sleep(Math.max(1, Math.floor((startNs + i * intervalNs - t) / 1e6)));
  }
  await Promise.all(running);
  return { startNs, intervalNs, lateNs, errors, firstError };
}
