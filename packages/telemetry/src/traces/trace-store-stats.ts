/** @module What the trace stores count, for the metrics made of them. */
import type { TailDecisionStats } from "./tail-decision.js";
import type { TraceStore } from "./trace-store.js";

export interface TraceStoreStats extends TailDecisionStats {
  /** Traces and spans kept now (the held ones not included). */
  readonly traces: number;
  readonly spans: number;
  /** What the kept spans take now: estimated bytes in memory, or bytes of the database file's used pages. */
  readonly bytes: number;
  readonly maxBytes: number;
  /** Traces and spans removed so far, oldest first, to stay within `maxBytes`. */
  readonly evictedTraces: number;
  readonly evictedSpans: number;
  /** Spans that could not be kept at all: the store was closed or read-only, or a write failed for good. */
  readonly droppedSpans: number;
}

/** A trace store that counts what it keeps, evicts and drops. */
export interface CountingTraceStore extends TraceStore {
  stats(): TraceStoreStats;
}
