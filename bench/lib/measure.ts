/** @module The measuring loop: warm-up, a throughput phase without per-call clocks, then a latency phase. */
import { setImmediate as turn } from "node:timers/promises";

export interface MeasureOptions {
  warmupMs: number;
  /** Length of the throughput phase; the latency phase takes half of it. */
  timeMs: number;
  /** 1: each call awaited before the next; N: batches of N calls in flight, awaited together. */
  concurrency: number;
}

export interface Measurement {
  opsPerSec: number;
  p50Ns: number;
  p99Ns: number;
  /** Calls made in all phases, for checking what the telemetry recorded. */
  totalOps: number;
}

/** Calls between clock reads and event-loop turns; timers (span batches, scrapes) run in the turns. */
const CHUNK = 1024;
const MAX_SAMPLES = 4_000_000;

export async function measure(call: () => Promise<unknown>, o: MeasureOptions): Promise<Measurement> {
  let totalOps = 0;
  totalOps += await throughput(call, o.concurrency, o.warmupMs);
  const start = performance.now();
  const ops = await throughput(call, o.concurrency, o.timeMs);
  const elapsedMs = performance.now() - start;
  totalOps += ops;
  const samples = await latencies(call, o.concurrency, o.timeMs / 2);
  totalOps += samples.length;
  samples.sort();
  return {
    opsPerSec: (ops / elapsedMs) * 1000,
    p50Ns: percentile(samples, 0.5),
    p99Ns: percentile(samples, 0.99),
    totalOps,
  };
}

async function throughput(call: () => Promise<unknown>, concurrency: number, ms: number): Promise<number> {
  const end = performance.now() + ms;
  const batch: Promise<unknown>[] = new Array(concurrency);
  const rounds = Math.max(1, Math.floor(CHUNK / concurrency));
  let ops = 0;
  do {
    if (concurrency === 1) {
      for (let i = 0; i < CHUNK; i++) await call();
      ops += CHUNK;
    } else {
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < concurrency; i++) batch[i] = call();
        await Promise.all(batch);
      }
      ops += rounds * concurrency;
    }
    await turn();
  } while (performance.now() < end);
  return ops;
}

/** Per-call latency in nanoseconds; in batches, from the batch's start to each call's reply. */
async function latencies(call: () => Promise<unknown>, concurrency: number, ms: number): Promise<Float64Array> {
  const samples = new Float64Array(MAX_SAMPLES);
  const end = performance.now() + ms;
  const batch: Promise<unknown>[] = new Array(concurrency);
  let n = 0;
  while (performance.now() < end && n + CHUNK <= MAX_SAMPLES) {
    if (concurrency === 1) {
      for (let i = 0; i < CHUNK; i++) {
        const t0 = performance.now();
        await call();
        samples[n++] = performance.now() - t0;
      }
    } else {
      for (let r = 0; r + concurrency <= CHUNK; r += concurrency) {
        const t0 = performance.now();
        for (let i = 0; i < concurrency; i++) {
          batch[i] = call().then(() => {
            samples[n++] = performance.now() - t0;
          });
        }
        await Promise.all(batch);
      }
    }
    await turn();
  }
  return samples.subarray(0, n).map((ms) => ms * 1e6);
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
