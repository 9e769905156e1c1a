/**
 * @module The metadata a call or an event carries between services: one object form that every
 * transport hands over (`CallMeta`), and one header form for whatever crosses a wire or is stored.
 */
import type { Identity } from "../context.js";
import { formatTraceparent, parseTraceparent, type TraceContext } from "../trace-context.js";
import { type HeaderMap, Headers } from "./envelope.js";

/** What a service knows about the work it is doing, besides the payload. */
export interface CallMeta {
  readonly trace: TraceContext;
  /** Ties together everything one edge request caused; defaults to the trace id. */
  readonly correlationId: string;
  readonly caller: Identity | undefined;
  /** Epoch milliseconds after which the answer is useless to the caller. */
  readonly deadline: number;
}

/** Reads one header by its lowercase name: a plain map's lookup, or a transport's own header block's. */
export type HeaderReader = (name: string) => string | undefined;

/**
 * Takes headers one by one: a transport's own header block, written without an intermediate map.
 * (Recognized by its `set` method; a header map's values are strings, never functions.)
 */
export interface HeaderWriter {
  set(name: string, value: string): void;
}

/**
 * The header form of `meta`, with the time left (relative, so clocks need not agree) when
 * `timeoutMs` is given. The correlation id is left out when it equals the trace id, its default.
 * Written into a header map (returned), or into a `HeaderWriter` in the same order.
 */
export function writeMetaHeaders(meta: Omit<CallMeta, "deadline">, timeoutMs?: number, into?: HeaderMap): HeaderMap;
export function writeMetaHeaders<W extends HeaderWriter>(
  meta: Omit<CallMeta, "deadline">,
  timeoutMs: number | undefined,
  into: W,
): W;
export function writeMetaHeaders(
  meta: Omit<CallMeta, "deadline">,
  timeoutMs?: number,
  into: HeaderMap | HeaderWriter = {},
): HeaderMap | HeaderWriter {
  const out: HeaderWriter = typeof into.set === "function" ? (into as HeaderWriter) : new MapWriter(into as HeaderMap);
  const trace = meta.trace;
  out.set(Headers.traceparent, formatTraceparent(trace));
  if (trace.tracestate) out.set(Headers.tracestate, trace.tracestate);
  if (meta.correlationId !== trace.traceId) out.set(Headers.correlationId, meta.correlationId);
  if (meta.caller !== undefined) out.set(Headers.caller, JSON.stringify(meta.caller));
  if (timeoutMs !== undefined) out.set(Headers.timeout, String(timeoutMs));
  return into;
}

class MapWriter implements HeaderWriter {
  constructor(private readonly map: HeaderMap) {}
  set(name: string, value: string): void {
    this.map[name] = value;
  }
}

/**
 * Rebuilds the metadata from headers. A missing or malformed `traceparent` starts a new trace (as
 * W3C Trace Context says); a malformed caller is dropped, never trusted. `deadline` is the one given:
 * a request's comes from `readTimeout`, an event's from its subscription.
 */
export function readMetaHeaders(get: HeaderReader, deadline: number, newTrace: () => TraceContext): CallMeta {
  const trace = parseTraceparent(get(Headers.traceparent), get(Headers.tracestate)) ?? newTrace();
  const caller = get(Headers.caller);
  return {
    trace,
    correlationId: get(Headers.correlationId) ?? trace.traceId,
    caller: caller === undefined ? undefined : parseCaller(caller),
    deadline,
  };
}

/** The time a request has left according to its headers; undefined when absent or not positive. */
export function readTimeout(get: HeaderReader): number | undefined {
  const timeout = Number(get(Headers.timeout));
  return timeout > 0 ? timeout : undefined;
}

/** A plain header map as a reader. */
export function mapReader(headers: HeaderMap): HeaderReader {
  return (name) => headers[name];
}

function parseCaller(header: string): Identity | undefined {
  try {
    const value = JSON.parse(header) as Partial<Identity>;
    if (typeof value.subject !== "string" || !Array.isArray(value.roles)) return undefined;
    return value as Identity;
  } catch {
    return undefined;
  }
}
