/**
 * @module A durable trace store: a SQLite file (better-sqlite3, WAL) that outlives the process, so the
 * traces of a run can be read after it, by `flotilla traces`, or kept as a CI artifact.
 *
 * Adding a span costs no disk write: spans wait in memory and are written every `flushMs`, one
 * transaction per flush. The file is bounded by bytes: past `maxBytes` of used pages, the traces that
 * arrived first are deleted (down to 90% of the bound) and the freed pages returned to the file system.
 * Several processes may write one file (each write waits for the lock up to `busy_timeout`), and readers
 * may open it read-only meanwhile (WAL lets them read while one writes).
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { FlotillaError } from "@flotilla/core";
import Database from "better-sqlite3";
import type { SpanRecord } from "./span-record.js";
import { spanBytes } from "./span-size.js";
import { TailDecision } from "./tail-decision.js";
import { TRACE_SCHEMA, TRACE_SCHEMA_VERSION, type TraceRow } from "./trace-schema.js";
import { type SpanQuery, spanLimit, type TraceQuery, type TraceSummary } from "./trace-store.js";
import type { CountingTraceStore, TraceStoreStats } from "./trace-store-stats.js";
import { limitOf, TraceAccumulator } from "./trace-summary.js";

/** The trace file's name in an app's data directory: `<dataDir>/flotilla.traces.sqlite`. */
export const TRACE_FILE = "flotilla.traces.sqlite";

export const DEFAULT_SQLITE_MAX_BYTES = 64 * 1024 * 1024;

export interface SqliteTraceStoreOptions {
  /** The database file; its directory is created if missing. */
  file: string;
  /** Bound of the database file's used pages, in bytes (default 64 MiB); its WAL comes on top (see docs). */
  maxBytes?: number;
  /** A trace the head sampler dropped is kept anyway when it lasts this long (default 1000 ms). */
  slowMs?: number;
  /** Budget of the unsampled spans held in memory until their trace is decided (default 8 MiB, at most `maxBytes / 8`). */
  heldBytes?: number;
  /** How long spans wait in memory before they are written (default 250 ms). */
  flushMs?: number;
  /** Spans waiting to be written, at most, in estimated bytes (default 16 MiB); past it new spans are dropped. */
  maxPendingBytes?: number;
  /** Open an existing file to read it only (as the CLI does while the app writes it); `add` drops spans. */
  readOnly?: boolean;
  /** Told about a write that failed (the spans are written again at the next flush, three times at most). */
  onError?: (err: unknown) => void;
}

export interface SqliteTraceStore extends CountingTraceStore {
  readonly file: string;
  /** Writes the spans waiting in memory now. */
  flush(): Promise<void>;
}

const BUSY_TIMEOUT_MS = 2000;
/** Past this many bytes waiting, the write is not put off until the timer. */
const EARLY_FLUSH_BYTES = 1024 * 1024;
const MAX_WRITE_ATTEMPTS = 3;
/** After an eviction the used pages go down to this share of the bound, so evictions come in batches. */
const EVICT_TO = 0.9;
/** A WAL is truncated to this size after a checkpoint. */
const WAL_LIMIT_BYTES = 4 * 1024 * 1024;

export function sqliteTraceStore(options: SqliteTraceStoreOptions): SqliteTraceStore {
  const { file } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_SQLITE_MAX_BYTES;
  const flushMs = options.flushMs ?? 250;
  const maxPending = options.maxPendingBytes ?? 16 * 1024 * 1024;
  const readOnly = options.readOnly === true;
  const tail = new TailDecision({
    heldBytes: options.heldBytes ?? Math.min(8 * 1024 * 1024, Math.floor(maxBytes / 8)),
    slowMs: options.slowMs ?? 1000,
  });
  const db = readOnly ? openReader(file) : openWriter(file);
  const pageSize = db.pragma("page_size", { simple: true }) as number;

  const q = {
    traceById: db.prepare<[string], TraceRow>("SELECT * FROM flotilla_trace WHERE trace_id = ?"),
    spansOf: db.prepare<[string], { record: string }>(
      `SELECT s.record FROM flotilla_span s JOIN flotilla_trace t ON s.trace_seq = t.seq
       WHERE t.trace_id = ? ORDER BY s.start_ms, s.span_id`,
    ),
    spansSince: db.prepare<[number, number], { record: string }>(
      "SELECT record FROM flotilla_span WHERE start_ms >= ? ORDER BY start_ms DESC LIMIT ?",
    ),
    counts: db.prepare<[], { traces: number; spans: number }>(
      "SELECT count(*) AS traces, coalesce(sum(spans), 0) AS spans FROM flotilla_trace",
    ),
  };
  const w = readOnly ? undefined : writeStatements(db);

  let pending: SpanRecord[] = [];
  let pendingBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;
  let usedBytes = used();
  let evictedTraces = 0;
  let evictedSpans = 0;
  let dropped = 0;
  let counted = { traces: 0, spans: 0 };

  function used(): number {
    const pages = db.pragma("page_count", { simple: true }) as number;
    const free = db.pragma("freelist_count", { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  function schedule(): void {
    if (timer !== undefined || pending.length === 0 || closed) return;
    timer = setTimeout(flushNow, pendingBytes >= EARLY_FLUSH_BYTES ? 0 : flushMs);
    timer.unref();
  }

  function flushNow(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0 || w === undefined) return;
    const batch = pending;
    const batchBytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    try {
      w.write.immediate(batch);
      failures = 0;
    } catch (err) {
      options.onError?.(err);
      failures += 1;
      if (failures >= MAX_WRITE_ATTEMPTS) {
        dropped += batch.length;
        failures = 0;
      } else {
        pending = batch.concat(pending);
        pendingBytes += batchBytes;
      }
    }
    schedule();
  }

  function writeStatements(db: Database.Database) {
    const insertTrace = db.prepare(
      `INSERT INTO flotilla_trace (trace_id, name, service, head_root, head_start_ms, start_ms, end_ms,
         duration_ms, spans, errors, services) VALUES (?, '', '', 0, 0, 0, 0, 0, 0, 0, '[]')`,
    );
    const updateTrace = db.prepare(
      `UPDATE flotilla_trace SET name = @name, service = @service, route = @route, method = @method,
         head_root = @head_root, head_start_ms = @head_start_ms, start_ms = @start_ms, end_ms = @end_ms,
         duration_ms = @duration_ms, spans = @spans, errors = @errors, services = @services WHERE seq = @seq`,
    );
    const insertSpan = db.prepare(
      "INSERT OR IGNORE INTO flotilla_span (trace_seq, span_id, start_ms, record) VALUES (?, ?, ?, ?)",
    );
    const traceCount = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM flotilla_trace");
    const nthOldest = db.prepare<[number], { seq: number }>(
      "SELECT seq FROM flotilla_trace ORDER BY seq LIMIT 1 OFFSET ?",
    );
    const deleteSpans = db.prepare("DELETE FROM flotilla_span WHERE trace_seq <= ?");
    const deleteTraces = db.prepare("DELETE FROM flotilla_trace WHERE seq <= ?");

    function evict(): void {
      let now = used();
      if (now <= maxBytes) return;
      while (now > maxBytes * EVICT_TO) {
        const count = traceCount.get()?.n ?? 0;
        if (count === 0) break;
        // Delete the oldest share of traces the excess is of the used pages (at least one).
        const k = Math.min(count, Math.max(1, Math.ceil((count * (now - maxBytes * EVICT_TO)) / now)));
        const cut = nthOldest.get(k - 1)?.seq;
        if (cut === undefined) break;
        evictedSpans += deleteSpans.run(cut).changes;
        evictedTraces += deleteTraces.run(cut).changes;
        now = used();
      }
      db.pragma("incremental_vacuum");
    }

    const write = db.transaction((batch: SpanRecord[]) => {
      const touched = new Map<string, { seq: number; acc: TraceAccumulator }>();
      for (const span of batch) {
        let trace = touched.get(span.traceId);
        if (trace === undefined) {
          const row = q.traceById.get(span.traceId);
          trace =
            row === undefined
              ? { seq: Number(insertTrace.run(span.traceId).lastInsertRowid), acc: new TraceAccumulator(span.traceId) }
              : { seq: row.seq, acc: accumulatorOf(row) };
          touched.set(span.traceId, trace);
        }
        // OR IGNORE: an exporter that retries may deliver a span twice.
        if (insertSpan.run(trace.seq, span.spanId, span.startMs, JSON.stringify(span)).changes === 1) {
          trace.acc.add(span);
        }
      }
      for (const { seq, acc } of touched.values()) {
        const head = acc.head;
        updateTrace.run({
          seq,
          name: head?.name ?? "",
          service: head?.service ?? "",
          route: head?.route ?? null,
          method: head?.method ?? null,
          head_root: head?.root ? 1 : 0,
          head_start_ms: head?.startMs ?? acc.startMs,
          start_ms: acc.startMs,
          end_ms: acc.endMs,
          duration_ms: acc.durationMs,
          spans: acc.spans,
          errors: acc.errors,
          services: JSON.stringify([...acc.services].sort()),
        });
      }
      evict();
      usedBytes = used();
    });
    return { write };
  }

  return {
    file,

    add(records: readonly SpanRecord[]): void {
      if (closed || readOnly) {
        dropped += records.length;
        return;
      }
      for (const span of tail.admit(records)) {
        const size = spanBytes(span);
        if (pendingBytes + size > maxPending) {
          dropped += 1;
          continue;
        }
        pending.push(span);
        pendingBytes += size;
      }
      schedule();
    },

    async flush(): Promise<void> {
      if (!closed) flushNow();
    },

    async trace(traceId: string): Promise<SpanRecord[]> {
      if (!closed) flushNow();
      return q.spansOf.all(traceId).map((row) => JSON.parse(row.record) as SpanRecord);
    },

    async traces(query: TraceQuery = {}): Promise<TraceSummary[]> {
      if (!closed) flushNow();
      const { sql, params } = selectSql(query);
      return db
        .prepare<unknown[], TraceRow>(sql)
        .all(...params)
        .map((row) => accumulatorOf(row).summary());
    },

    async spans(query: SpanQuery = {}): Promise<SpanRecord[]> {
      if (!closed) flushNow();
      return q.spansSince.all(query.sinceMs ?? 0, spanLimit(query)).map((row) => JSON.parse(row.record) as SpanRecord);
    },

    async close(): Promise<void> {
      if (closed) return;
      flushNow();
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      dropped += pending.length;
      pending = [];
      counted = q.counts.get() ?? counted;
      db.close();
    },

    stats(): TraceStoreStats {
      if (!closed) counted = q.counts.get() ?? counted;
      return {
        traces: counted.traces,
        spans: counted.spans,
        bytes: usedBytes,
        maxBytes,
        evictedTraces,
        evictedSpans,
        droppedSpans: dropped,
        ...tail.stats(),
      };
    },
  };
}

function openWriter(file: string): Database.Database {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    // busy_timeout first: switching to WAL takes a lock another process may hold.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Only takes effect before the first table is made: pages freed by evictions can then be returned.
    db.pragma("auto_vacuum = INCREMENTAL");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
    db.transaction(() => {
      const version = db.pragma("user_version", { simple: true }) as number;
      if (version > TRACE_SCHEMA_VERSION) throw newerFile(file, version);
      db.exec(TRACE_SCHEMA);
      db.pragma(`user_version = ${TRACE_SCHEMA_VERSION}`);
    }).immediate();
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function openReader(file: string): Database.Database {
  if (!existsSync(file)) throw new FlotillaError("NOT_FOUND", `no trace file at ${file}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > TRACE_SCHEMA_VERSION) throw newerFile(file, version);
    if (version < TRACE_SCHEMA_VERSION) {
      throw new FlotillaError("FAILED_PRECONDITION", `${file} is not a Flotilla trace file`);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function newerFile(file: string, version: number): FlotillaError {
  return new FlotillaError(
    "FAILED_PRECONDITION",
    `${file} was written by a newer Flotilla (trace schema ${version}; this one reads ${TRACE_SCHEMA_VERSION})`,
  );
}

function accumulatorOf(row: TraceRow): TraceAccumulator {
  const acc = new TraceAccumulator(row.trace_id);
  acc.startMs = row.start_ms;
  acc.endMs = row.end_ms;
  acc.spans = row.spans;
  acc.errors = row.errors;
  for (const service of JSON.parse(row.services) as string[]) acc.services.add(service);
  if (row.spans > 0) {
    acc.head = {
      name: row.name,
      service: row.service,
      ...(row.route === null ? {} : { route: row.route }),
      ...(row.method === null ? {} : { method: row.method }),
      startMs: row.head_start_ms,
      root: row.head_root === 1,
    };
  }
  return acc;
}

/** The query as SQL: the same criteria and order as `select` in trace-summary.ts. */
function selectSql(query: TraceQuery): { sql: string; params: unknown[] } {
  const where: string[] = ["spans > 0"];
  const params: unknown[] = [];
  if (query.service !== undefined) {
    where.push("EXISTS (SELECT 1 FROM json_each(services) WHERE value = ?)");
    params.push(query.service);
  }
  if (query.status === "error") where.push("errors > 0");
  if (query.status === "ok") where.push("errors = 0");
  if (query.minDurationMs !== undefined) {
    where.push("duration_ms >= ?");
    params.push(query.minDurationMs);
  }
  if (query.sinceMs !== undefined) {
    where.push("start_ms >= ?");
    params.push(query.sinceMs);
  }
  if (query.route !== undefined) {
    where.push("(name = ? OR route = ? OR method || ' ' || route = ?)");
    params.push(query.route, query.route, query.route);
  }
  const order = query.order === "slowest" ? "duration_ms DESC, start_ms DESC, trace_id" : "start_ms DESC, trace_id";
  params.push(limitOf(query));
  return { sql: `SELECT * FROM flotilla_trace WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT ?`, params };
}
