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
  /** Who is calling: handed over as it is in-process; rebuilt from a verified `callerProof` off a wire. */
  readonly caller: Identity | undefined;
  /**
   * The caller's proof as read off a wire, NOT yet verified: the host that handles the work checks it
   * (see caller-proof.ts) and only then sets `caller`. Absent in-process.
   */
  readonly callerProof?: string;
  /** Epoch milliseconds after which the answer is useless to the caller. */
  readonly deadline: number;
  /** W3C Baggage as received (a `baggage` header value), passed on to every hop this work causes. */
  readonly baggage?: string | undefined;
}

/** W3C Baggage allows 8192 bytes; a longer or unprintable value is dropped, not cut. */
const BAGGAGE = /^[\x20-\x7e]{1,8192}$/;

/** The `baggage` header value if it may be passed on, else undefined. */
export function validBaggage(value: string | undefined): string | undefined {
  return value !== undefined && BAGGAGE.test(value) ? value : undefined;
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
 * The caller travels as its proof only: a caller without one (or whose proof has expired) is not sent,
 * so the other side sees no caller rather than an unverifiable claim.
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
  if (meta.baggage) out.set(Headers.baggage, meta.baggage);
  if (meta.correlationId !== trace.traceId) out.set(Headers.correlationId, meta.correlationId);
  const caller = meta.caller;
  if (caller?.proof !== undefined && !(caller.expiresAt !== undefined && caller.expiresAt <= Date.now())) {
    out.set(Headers.caller, caller.proof);
  }
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
 * W3C Trace Context says). The caller's proof is passed on unverified, as `callerProof`, for the
 * handling host to check. `deadline` is the one given: a request's comes from `readTimeout`, an
 * event's from its subscription.
 */
export function readMetaHeaders(get: HeaderReader, deadline: number, newTrace: () => TraceContext): CallMeta {
  const trace = parseTraceparent(get(Headers.traceparent), get(Headers.tracestate)) ?? newTrace();
  const proof = get(Headers.caller);
  const baggage = validBaggage(get(Headers.baggage));
  const meta: { -readonly [K in keyof CallMeta]: CallMeta[K] } = {
    trace,
    correlationId: get(Headers.correlationId) ?? trace.traceId,
    caller: undefined,
    deadline,
  };
  if (proof !== undefined) meta.callerProof = proof;
  if (baggage !== undefined) meta.baggage = baggage;
  return meta;
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
