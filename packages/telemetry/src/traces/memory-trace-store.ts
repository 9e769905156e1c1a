/**
 * @module A trace store in the process's memory, bounded by bytes: when the spans it keeps (estimated as
 * span-size.ts says) pass `maxBytes`, whole traces go, the one whose first span arrived earliest first.
 */
import type { SpanRecord } from "./span-record.js";
import { spanBytes } from "./span-size.js";
import { TailDecision } from "./tail-decision.js";
import { type SpanQuery, spanLimit, type TraceQuery, type TraceSummary } from "./trace-store.js";
import type { CountingTraceStore, TraceStoreStats } from "./trace-store-stats.js";
import { byStart, select, TraceAccumulator } from "./trace-summary.js";

export interface MemoryTraceStoreOptions {
  /** Budget of the kept spans, in estimated bytes (default 16 MiB). */
  maxBytes?: number;
  /** A trace the head sampler dropped is kept anyway when it lasts this long (default 1000 ms). */
  slowMs?: number;
  /** Budget of the unsampled spans held until their trace is decided (default `maxBytes / 8`). */
  heldBytes?: number;
}

export const DEFAULT_MEMORY_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_SLOW_MS = 1000;

interface Entry {
  readonly summary: TraceAccumulator;
  readonly spans: SpanRecord[];
  readonly spanIds: Set<string>;
  bytes: number;
}

export function memoryTraceStore(options: MemoryTraceStoreOptions = {}): CountingTraceStore {
  const maxBytes = options.maxBytes ?? DEFAULT_MEMORY_MAX_BYTES;
  const tail = new TailDecision({
    heldBytes: options.heldBytes ?? Math.floor(maxBytes / 8),
    slowMs: options.slowMs ?? DEFAULT_SLOW_MS,
  });
  /** By trace id, in the order each trace's first span arrived. */
  const traces = new Map<string, Entry>();
  let bytes = 0;
  let spans = 0;
  let evictedTraces = 0;
  let evictedSpans = 0;
  let dropped = 0;
  let closed = false;

  function keep(span: SpanRecord): void {
    let entry = traces.get(span.traceId);
    if (entry === undefined) {
      entry = { summary: new TraceAccumulator(span.traceId), spans: [], spanIds: new Set(), bytes: 0 };
      traces.set(span.traceId, entry);
    }
    // An exporter that retries may deliver a span twice.
    if (entry.spanIds.has(span.spanId)) return;
    const size = spanBytes(span);
    entry.spanIds.add(span.spanId);
    entry.spans.push(span);
    entry.summary.add(span);
    entry.bytes += size;
    bytes += size;
    spans += 1;
  }

  function evict(): void {
    for (const [traceId, entry] of traces) {
      if (bytes <= maxBytes) return;
      traces.delete(traceId);
      bytes -= entry.bytes;
      spans -= entry.spans.length;
      evictedTraces += 1;
      evictedSpans += entry.spans.length;
    }
  }

  return {
    add(records: readonly SpanRecord[]): void {
      if (closed) {
        dropped += records.length;
        return;
      }
      for (const span of tail.admit(records)) keep(span);
      evict();
    },

    async trace(traceId: string): Promise<SpanRecord[]> {
      const entry = traces.get(traceId);
      return entry === undefined ? [] : [...entry.spans].sort(byStart);
    },

    async traces(query: TraceQuery = {}): Promise<TraceSummary[]> {
      return select(
        (function* () {
          for (const entry of traces.values()) yield entry.summary;
        })(),
        query,
      );
    },

    async spans(query: SpanQuery = {}): Promise<SpanRecord[]> {
      const since = query.sinceMs ?? 0;
      const found: SpanRecord[] = [];
      for (const entry of traces.values()) {
        for (const span of entry.spans) if (span.startMs >= since) found.push(span);
      }
      return found.sort((a, b) => b.startMs - a.startMs).slice(0, spanLimit(query));
    },

    async close(): Promise<void> {
      closed = true;
    },

    stats(): TraceStoreStats {
      return {
        traces: traces.size,
        spans,
        bytes,
        maxBytes,
        evictedTraces,
        evictedSpans,
        droppedSpans: dropped,
        ...tail.stats(),
      };
    },
  };
}
