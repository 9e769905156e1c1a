/**
 * @module Bridges core's `TraceContext` and OpenTelemetry's span contexts directly, object to object,
 * so the hot path never formats or parses a `traceparent` string.
 */
import type { TraceContext } from "@flotilla/core";
import {
  type Context,
  createContextKey,
  createTraceState,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type TraceState,
  trace,
} from "@opentelemetry/api";

/**
 * The trace context of a span this package opened: what core carries in `ctx.trace` and sends to the
 * next hop. It keeps the span (privately, so it never leaks into JSON or logs) to parent child spans
 * on the real span rather than a copy of its ids.
 */
export class SpanTrace implements TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly flags: number;
  readonly tracestate?: string;
  readonly #span: Span;
  #context: Context | undefined;

  constructor(span: Span) {
    const sc = span.spanContext();
    this.#span = span;
    this.traceId = sc.traceId;
    this.spanId = sc.spanId;
    this.flags = sc.traceFlags;
    if (sc.traceState !== undefined) this.tracestate = serialize(sc.traceState);
  }

  get span(): Span {
    return this.#span;
  }

  /** An OpenTelemetry context whose active span is this span. */
  get context(): Context {
    this.#context ??= spanContext(this.#span);
    return this.#context;
  }
}

/** Core's trace context as an OpenTelemetry `SpanContext`; `isRemote` when it arrived from another hop. */
export function toSpanContext(tc: TraceContext, isRemote = true): SpanContext {
  const sc: SpanContext = { traceId: tc.traceId, spanId: tc.spanId, traceFlags: tc.flags, isRemote };
  if (tc.tracestate) {
    sc.traceState = createTraceState(tc.tracestate);
    serialized.set(sc.traceState, tc.tracestate);
  }
  return sc;
}

/** An OpenTelemetry `SpanContext` as core's trace context (e.g. to start a Flotilla call under an OTel span). */
export function fromSpanContext(sc: SpanContext): TraceContext {
  const tc: { -readonly [K in keyof TraceContext]: TraceContext[K] } = {
    traceId: sc.traceId,
    spanId: sc.spanId,
    flags: sc.traceFlags,
  };
  const state = sc.traceState === undefined ? undefined : serialize(sc.traceState);
  if (state) tc.tracestate = state;
  return tc;
}

/**
 * The OpenTelemetry context to open a child span in: the span itself when this package opened it,
 * otherwise the ids core parsed from the incoming headers (a remote parent).
 */
export function parentContext(tc: TraceContext): Context {
  if (tc instanceof SpanTrace) return tc.context;
  return remoteParent(tc);
}

/**
 * The context of a parent that arrived through a transport: remote, as OpenTelemetry defines it, even
 * when the in-process transport handed over the caller's own span object.
 */
export function remoteParent(tc: TraceContext): Context {
  return spanContext(trace.wrapSpanContext(toSpanContext(tc, true)));
}

// Children inherit their parent's TraceState object unless a sampler changes it, so the string it
// was parsed from is usually known and need not be serialized again per span.
const serialized = new WeakMap<TraceState, string>();

function serialize(state: TraceState): string {
  let text = serialized.get(state);
  if (text === undefined) {
    text = state.serialize();
    serialized.set(state, text);
  }
  return text;
}

const SPAN_KEY = createContextKey("OpenTelemetry Context Key SPAN");

/**
 * A context holding only a span. The API's own contexts copy a Map and make three closures each; this
 * one is a single small object, and anything that derives a new context from it gets a standard one.
 */
class SpanOnlyContext implements Context {
  constructor(private readonly span: Span) {}

  getValue(key: symbol): unknown {
    return key === SPAN_KEY ? this.span : undefined;
  }

  setValue(key: symbol, value: unknown): Context {
    return trace.setSpan(ROOT_CONTEXT, this.span).setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return key === SPAN_KEY ? ROOT_CONTEXT : this;
  }
}

// The span key is `Symbol.for(...)` precisely so every copy of the API agrees on it; should a future
// API change that, the check below falls back to the API's own contexts.
const probe = trace.wrapSpanContext(toSpanContext({ traceId: "1".repeat(32), spanId: "1".repeat(16), flags: 1 }));
const fastContexts = trace.getSpan(new SpanOnlyContext(probe)) === probe;

function spanContext(span: Span): Context {
  return fastContexts ? new SpanOnlyContext(span) : trace.setSpan(ROOT_CONTEXT, span);
}
