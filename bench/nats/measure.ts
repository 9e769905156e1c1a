/**
 * @module The measuring loop of the distributed benchmarks: a fixed number of operations kept in
 * flight (a sliding window: each of N loops starts its next operation as soon as its last one
 * settled), a warm-up, then one measured phase that reports throughput and every operation's latency.
 *
 * Unlike the in-process benchmark, throughput and latency come from the same phase: an operation
 * here takes tens of microseconds or more, so the two clock reads per operation (~0.1 µs) do not
 * matter, and the percentiles then describe the very run whose throughput is reported.
 */

export interface WindowOptions {
  warmupMs: number;
  timeMs: number;
  /** Operations in flight at once: 1 = sequential (each awaited before the next). */
  inFlight: number;
  /** Called between the warm-up and the measured phase. */
  onMeasure?: () => void;
}

export interface WindowResult {
  opsPerSec: number;
  p50Ns: number;
  p99Ns: number;
  /** Operations in the measured phase. */
  ops: number;
  /** Operations in all phases (warm-up included), to check against what the other side counted. */
  totalOps: number;
}

export const MAX_SAMPLES = 8_000_000;

/** Starts `op()` `inFlight` at a time for the warm-up, then for `timeMs`, and reports the measured phase. */
export async function measureWindow(op: () => Promise<unknown>, o: WindowOptions): Promise<WindowResult> {
  const warm = await runWindow(op, o.inFlight, o.warmupMs);
  o.onMeasure?.();
  const samples = new Float64Array(MAX_SAMPLES);
  const measured = await runWindow(op, o.inFlight, o.timeMs, samples);
  const latencies = samples.subarray(0, Math.min(measured.ops, MAX_SAMPLES)).sort();
  return {
    opsPerSec: (measured.ops / measured.elapsedMs) * 1000,
    p50Ns: percentile(latencies, 0.5) * 1e6,
    p99Ns: percentile(latencies, 0.99) * 1e6,
    ops: measured.ops,
    totalOps: warm.ops + measured.ops,
  };
}

/**
 * Keeps `inFlight` operations going for `ms` (each loop starts no new one after that), then waits for
 * the last to settle. With `samples`, each operation's latency in milliseconds goes into it.
 */
export async function runWindow(
  op: () => Promise<unknown>,
  inFlight: number,
  ms: number,
  samples?: Float64Array,
): Promise<{ ops: number; elapsedMs: number }> {
  const start = performance.now();
  const end = start + ms;
  let ops = 0;
  const loop = async () => {
    let now = performance.now();
    while (now < end) {
      const t0 = now;
      await op();
      now = performance.now();
      if (samples !== undefined && ops < MAX_SAMPLES) samples[ops] = now - t0;
      ops++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  return { ops, elapsedMs: performance.now() - start };
}

export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
