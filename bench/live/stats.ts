/** @module Percentiles of the fan-out's delivery latencies. */

export interface Spread {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

/** Nearest-rank percentiles of `values` (sorted in place). */
export function spread(values: number[]): Spread {
  values.sort((a, b) => a - b);
  const at = (q: number) => values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: values[values.length - 1] ?? Number.NaN, count: values.length };
}

/** The median of a few numbers (per-round figures). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}
