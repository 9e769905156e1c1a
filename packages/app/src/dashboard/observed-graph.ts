/** @module The Topology view's observed graph: the edges and the pub/sub map of the spans of the last window, in a span of its own. */
import type { ObservedGraph, ObservedReader } from "@flotilla/dashboard";
import type { SpanRecord, TraceStore } from "@flotilla/telemetry";
import type { Tracer } from "@opentelemetry/api";
import { callEdges, eventEdges, hops } from "./observed-edges.js";
import { type DeclaredPubSub, pubSubMap } from "./observed-pubsub.js";

/** Five minutes: long enough to see a quiet system's traffic, short enough to follow a change. */
export const OBSERVED_WINDOW_MS = 5 * 60_000;
/** The most spans one read looks at: the newest of the window. */
export const OBSERVED_SPAN_LIMIT = 20_000;

/** The observed graph of spans already read (pure: the unit tests give hand-made spans). */
export function observedGraph(
  spans: readonly SpanRecord[],
  declared: DeclaredPubSub,
  options: { windowMs: number; nowMs: number },
): ObservedGraph {
  const found = hops(spans);
  return {
    windowMs: options.windowMs,
    generatedAt: new Date(options.nowMs).toISOString(),
    spans: spans.length,
    calls: callEdges(found, options.windowMs),
    events: eventEdges(found, options.windowMs),
    pubsub: pubSubMap(spans, declared),
  };
}

export interface ObservedSource {
  readonly traces: TraceStore;
  readonly declared: DeclaredPubSub;
  readonly tracer: Tracer | undefined;
  readonly windowMs?: number;
}

/** Reads the window's spans from the store and computes the graph, in a span `dashboard.topology.observe`. */
export function observedReader(source: ObservedSource): ObservedReader {
  const windowMs = source.windowMs ?? OBSERVED_WINDOW_MS;
  const read = async () => {
    const nowMs = Date.now();
    const spans = await source.traces.spans({ sinceMs: nowMs - windowMs, limit: OBSERVED_SPAN_LIMIT });
    return observedGraph(spans, source.declared, { windowMs, nowMs });
  };
  const { tracer } = source;
  if (tracer === undefined) return read;
  return () =>
    tracer.startActiveSpan("dashboard.topology.observe", async (span) => {
      try {
        const graph = await read();
        span.setAttribute("flotilla.dashboard.spans", graph.spans);
        span.setAttribute("flotilla.dashboard.edges", graph.calls.length + graph.events.length);
        return graph;
      } finally {
        span.end();
      }
    });
}
