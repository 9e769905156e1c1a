/**
 * @module The trace file's tables. One row per trace holds its summary, kept up to date as its spans
 * are written, so listing traces reads those rows only; one row per span holds the span as JSON.
 * `seq` numbers traces in the order they first reached the file: the lowest are evicted first.
 */

/** `PRAGMA user_version` of a trace file with these tables. */
export const TRACE_SCHEMA_VERSION = 1;

export const TRACE_SCHEMA = `
CREATE TABLE IF NOT EXISTS flotilla_trace (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  trace_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  service TEXT NOT NULL,
  route TEXT,
  method TEXT,
  head_root INTEGER NOT NULL,
  head_start_ms REAL NOT NULL,
  start_ms REAL NOT NULL,
  end_ms REAL NOT NULL,
  duration_ms REAL NOT NULL,
  spans INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  services TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS flotilla_trace_start ON flotilla_trace (start_ms);
CREATE INDEX IF NOT EXISTS flotilla_trace_duration ON flotilla_trace (duration_ms);
CREATE TABLE IF NOT EXISTS flotilla_span (
  trace_seq INTEGER NOT NULL,
  span_id TEXT NOT NULL,
  start_ms REAL NOT NULL,
  record TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS flotilla_span_trace ON flotilla_span (trace_seq, span_id);
CREATE INDEX IF NOT EXISTS flotilla_span_start ON flotilla_span (start_ms);
`;

export interface TraceRow {
  readonly seq: number;
  readonly trace_id: string;
  readonly name: string;
  readonly service: string;
  readonly route: string | null;
  readonly method: string | null;
  readonly head_root: number;
  readonly head_start_ms: number;
  readonly start_ms: number;
  readonly end_ms: number;
  readonly duration_ms: number;
  readonly spans: number;
  readonly errors: number;
  /** JSON array of service names, sorted. */
  readonly services: string;
}
