/**
 * @module A trace's summary kept up to date span by span, so that listing traces reads one small record
 * per trace instead of every span; and what a `TraceQuery` means, in one place.
 */
import { type SpanRecord, SpanStatuses } from "./span-record.js";
import type { TraceQuery, TraceSummary } from "./trace-store.js";

export const DEFAULT_LIMIT = 20;

const HTTP_ROUTE = "http.route";
const HTTP_METHOD = "http.request.method";

/** The span a trace is named after: its root, else (until the root arrives) its earliest span. */
export interface TraceHead {
  readonly name: string;
  readonly service: string;
  readonly route?: string;
  /** The head's `http.request.method`, to match routes written `POST /api/v1/orders`. */
  readonly method?: string;
  readonly startMs: number;
  readonly root: boolean;
}

/** A trace's running totals. Mutable: a store updates it as spans arrive. */
export class TraceAccumulator {
  startMs = Number.POSITIVE_INFINITY;
  endMs = Number.NEGATIVE_INFINITY;
  spans = 0;
  errors = 0;
  readonly services = new Set<string>();
  head: TraceHead | undefined;

  constructor(readonly traceId: string) {}

  add(span: SpanRecord): void {
    this.spans += 1;
    if (span.status === SpanStatuses.error) this.errors += 1;
    this.services.add(span.service);
    if (span.startMs < this.startMs) this.startMs = span.startMs;
    const end = span.startMs + span.durationMs;
    if (end > this.endMs) this.endMs = end;
    this.offerHead(headOf(span));
  }

  /** Takes `head` as the trace's head if it names the trace better than the current one. */
  offerHead(head: TraceHead): void {
    const current = this.head;
    if (current === undefined || betterHead(head, current)) this.head = head;
  }

  get durationMs(): number {
    return this.spans === 0 ? 0 : this.endMs - this.startMs;
  }

  summary(): TraceSummary {
    const head = this.head ?? { name: "", service: "", startMs: this.startMs, root: false };
    return {
      traceId: this.traceId,
      name: head.name,
      service: head.service,
      ...(head.route === undefined ? {} : { route: head.route }),
      startMs: this.startMs,
      durationMs: this.durationMs,
      spans: this.spans,
      errors: this.errors,
      services: [...this.services].sort(),
    };
  }
}

export function headOf(span: SpanRecord): TraceHead {
  const route = span.attributes[HTTP_ROUTE];
  const method = span.attributes[HTTP_METHOD];
  return {
    name: span.name,
    service: span.service,
    ...(typeof route === "string" ? { route } : {}),
    ...(typeof method === "string" ? { method } : {}),
    startMs: span.startMs,
    root: span.parentSpanId === undefined,
  };
}

/** A root beats any other span; between two of a kind, the earlier one wins. */
export function betterHead(candidate: TraceHead, current: TraceHead): boolean {
  if (candidate.root !== current.root) return candidate.root;
  return candidate.startMs < current.startMs;
}

/** Whether a route asked for names this head: its `http.route`, `METHOD route`, or its name. */
export function routeMatches(wanted: string, head: Pick<TraceHead, "name" | "route" | "method">): boolean {
  if (head.name === wanted || head.route === wanted) return true;
  return head.route !== undefined && head.method !== undefined && `${head.method} ${head.route}` === wanted;
}

/** Whether a trace is one `query` asks for (every criterion but order and limit). */
export function matches(trace: TraceAccumulator, query: TraceQuery): boolean {
  if (query.service !== undefined && !trace.services.has(query.service)) return false;
  if (query.status === "error" && trace.errors === 0) return false;
  if (query.status === "ok" && trace.errors > 0) return false;
  if (query.minDurationMs !== undefined && trace.durationMs < query.minDurationMs) return false;
  if (query.sinceMs !== undefined && trace.startMs < query.sinceMs) return false;
  if (query.route !== undefined && (trace.head === undefined || !routeMatches(query.route, trace.head))) return false;
  return true;
}

/** The traces `query` asks for, in its order, at most its limit. */
export function select(traces: Iterable<TraceAccumulator>, query: TraceQuery = {}): TraceSummary[] {
  const limit = limitOf(query);
  const found: TraceAccumulator[] = [];
  for (const trace of traces) if (matches(trace, query)) found.push(trace);
  found.sort(query.order === "slowest" ? slowestFirst : recentFirst);
  return found.slice(0, limit).map((t) => t.summary());
}

export function limitOf(query: TraceQuery): number {
  const limit = query.limit ?? DEFAULT_LIMIT;
  return Number.isFinite(limit) && limit > 0 ? Math.floor(limit) : DEFAULT_LIMIT;
}

// Ties broken by trace id, so both stores list equal traces in the same order.
function recentFirst(a: TraceAccumulator, b: TraceAccumulator): number {
  return b.startMs - a.startMs || (a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : 0);
}

function slowestFirst(a: TraceAccumulator, b: TraceAccumulator): number {
  return b.durationMs - a.durationMs || recentFirst(a, b);
}

/** Spans by start time (then span id, for a stable order). */
export function byStart(a: SpanRecord, b: SpanRecord): number {
  return a.startMs - b.startMs || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0);
}
