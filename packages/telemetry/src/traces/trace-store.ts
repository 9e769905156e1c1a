/** @module What every trace store offers: keep finished spans, find traces, read one whole. */
import type { SpanRecord } from "./span-record.js";

export interface TraceQuery {
  /** Traces that have at least one span of this service. */
  readonly service?: string;
  /** Traces whose root span carries this `http.route` (e.g. `POST /api/v1/orders`) or has this name. */
  readonly route?: string;
  /** `error`: traces with at least one failed span; `ok`: traces with none. */
  readonly status?: "ok" | "error";
  /** Traces that lasted at least this long, root start to last span end. */
  readonly minDurationMs?: number;
  /** Traces that started at or after this instant (epoch ms). */
  readonly sinceMs?: number;
  /** `recent` (default): newest first; `slowest`: longest first. */
  readonly order?: "recent" | "slowest";
  /** At most this many (default 20). */
  readonly limit?: number;
}

/** Spans across traces, for views that aggregate (observed edges, event flow): newest first. */
export interface SpanQuery {
  /** Spans that started at or after this instant (epoch ms). */
  readonly sinceMs?: number;
  /** At most this many (default 5,000, at most 50,000): the newest. */
  readonly limit?: number;
}

/** The most spans one `spans()` read answers. */
export const MAX_SPAN_READ = 50_000;

export interface TraceSummary {
  readonly traceId: string;
  /** The root span's name, or the earliest span's when the root has not arrived (yet). */
  readonly name: string;
  /** The service of that span. */
  readonly service: string;
  readonly route?: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly spans: number;
  readonly errors: number;
  /** Every service with a span in the trace, sorted. */
  readonly services: readonly string[];
}

export interface TraceStore {
  /** Keeps finished spans; never throws (a store that cannot keep a span drops it and counts it). */
  add(spans: readonly SpanRecord[]): void;
  /** Every kept span of one trace, by start time; empty when none is kept. */
  trace(traceId: string): Promise<SpanRecord[]>;
  traces(query?: TraceQuery): Promise<TraceSummary[]>;
  /** Kept spans of every trace, newest start first (see SpanQuery). */
  spans(query?: SpanQuery): Promise<SpanRecord[]>;
  /** Writes what is buffered and releases files. */
  close(): Promise<void>;
}

/** The number of spans a `spans()` read answers: its limit within 1..MAX_SPAN_READ, 5,000 by default. */
export function spanLimit(query: SpanQuery): number {
  return Math.max(1, Math.min(MAX_SPAN_READ, Math.floor(query.limit ?? 5_000)));
}
