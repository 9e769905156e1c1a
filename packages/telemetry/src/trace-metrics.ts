/**
 * @module Tracing's own health as metrics: what the recorder recorded and exported, what the embedded
 * store keeps, and every span lost on the way (a full export queue, a failed export, the store's bound),
 * read from their counters at scrape time.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { TraceRecorder } from "./recorder/trace-recorder.js";
import type { CountingTraceStore } from "./traces/trace-store-stats.js";

/** Registers tracing's metrics for `recorder` (and its store, when the store counts) in `registry`. */
export function traceMetrics(registry: Registry, recorder: TraceRecorder): void {
  const registers = [registry];
  const store = counting(recorder.store);
  new Counter({
    name: "flotilla_trace_spans_recorded_total",
    help: "Spans this process recorded (every finished span, sampled or not).",
    registers,
    collect() {
      this.reset();
      this.inc(recorder.stats().recorded);
    },
  });
  new Counter({
    name: "flotilla_trace_spans_exported_total",
    help: "Spans sent over OTLP/HTTP, by destination: otlp (the OTEL_* endpoint) or collector (FLOTILLA_TRACE_COLLECTOR).",
    labelNames: ["destination"] as const,
    registers,
    collect() {
      this.reset();
      const { otlp, collector } = recorder.stats();
      if (otlp) this.inc({ destination: "otlp" }, otlp.exported);
      if (collector) this.inc({ destination: "collector" }, collector.exported);
    },
  });
  new Counter({
    name: "flotilla_trace_spans_lost_total",
    help: "Spans that did not reach a destination, by destination and reason: queue_full, export_failed (exporters), evicted, dropped (the store).",
    labelNames: ["destination", "reason"] as const,
    registers,
    collect() {
      this.reset();
      const { otlp, collector } = recorder.stats();
      for (const [destination, s] of [
        ["otlp", otlp],
        ["collector", collector],
      ] as const) {
        if (s === undefined) continue;
        this.inc({ destination, reason: "queue_full" }, s.droppedQueueFull);
        this.inc({ destination, reason: "export_failed" }, s.failed);
      }
      if (store) {
        const s = store.stats();
        this.inc({ destination: "store", reason: "evicted" }, s.evictedSpans);
        this.inc({ destination: "store", reason: "dropped" }, s.droppedSpans + s.discardedSpans);
      }
    },
  });
  if (store === undefined) return;
  new Gauge({
    name: "flotilla_trace_store_bytes",
    help: "What the embedded trace store's spans take (estimated in memory; used pages of its file), and its bound.",
    labelNames: ["kind"] as const,
    registers,
    collect() {
      const s = store.stats();
      this.set({ kind: "used" }, s.bytes);
      this.set({ kind: "max" }, s.maxBytes);
    },
  });
  new Gauge({
    name: "flotilla_trace_store_spans",
    help: "Spans the embedded trace store keeps now (kept) and holds until their trace is decided (held).",
    labelNames: ["kind"] as const,
    registers,
    collect() {
      const s = store.stats();
      this.set({ kind: "kept" }, s.spans);
      this.set({ kind: "held" }, s.heldSpans);
    },
  });
}

function counting(store: TraceRecorder["store"]): CountingTraceStore | undefined {
  return store !== undefined && "stats" in store && typeof store.stats === "function"
    ? (store as CountingTraceStore)
    : undefined;
}
