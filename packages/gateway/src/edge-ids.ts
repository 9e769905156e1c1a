/** @module The ids a request carries into Flotilla: W3C trace context and the correlation id. */
import type { IncomingHttpHeaders } from "node:http";
import {
  childTraceContext,
  formatTraceparent,
  newTraceContext,
  parseTraceparent,
  type TraceContext,
} from "@flotilla/core";
import { SpanTrace } from "@flotilla/telemetry";
import { remoteParent } from "@flotilla/telemetry/internal";
import { ROOT_CONTEXT, type Span, SpanKind, type Tracer } from "@opentelemetry/api";

/** Ids a client may choose: short, and safe to echo in a header and to write into logs. */
const CORRELATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** W3C asks hops to propagate at least 512 characters; longer (or unprintable) values are dropped. */
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

export const ResponseHeaders = {
  traceId: "x-trace-id",
  correlationId: "x-correlation-id",
  traceparent: "traceparent",
} as const;

export interface EdgeIds {
  /** The gateway's own span in the caller's trace (or in a new trace). */
  readonly trace: TraceContext;
  readonly traceparent: string;
  readonly correlationId: string;
  /** The gateway's span for this request, when the gateway traces. */
  readonly span?: Span;
}

/**
 * The request's ids. With a tracer, the gateway's hop is a SERVER span (named by the method until the
 * route is known), a child of the caller's `traceparent` or the root of a new trace.
 */
export function edgeIds(headers: IncomingHttpHeaders, tracer?: Tracer, method?: string): EdgeIds {
  const tracestate = single(headers.tracestate);
  const incoming = parseTraceparent(
    single(headers.traceparent),
    tracestate !== undefined && TRACESTATE.test(tracestate) ? tracestate : undefined,
  );
  // The gateway is a hop of its own: services see its span as their parent, and clients get it back.
  let span: Span | undefined;
  let trace: TraceContext;
  if (tracer !== undefined) {
    span = tracer.startSpan(
      method ?? "HTTP",
      { kind: SpanKind.SERVER, attributes: { "flotilla.service": "gateway", "http.request.method": method ?? "" } },
      incoming === undefined ? ROOT_CONTEXT : remoteParent(incoming),
    );
    trace = new SpanTrace(span);
  } else {
    trace = incoming === undefined ? newTraceContext() : childTraceContext(incoming);
  }
  const sent = single(headers[ResponseHeaders.correlationId]);
  // Without one from the client, the trace id serves: it is unique already, costs no random draw, and
  // the runtime leaves a correlation id equal to the trace id off the wire.
  const correlationId = sent !== undefined && CORRELATION_ID.test(sent) ? sent : trace.traceId;
  const ids = { trace, traceparent: formatTraceparent(trace), correlationId };
  return span === undefined ? ids : { ...ids, span };
}

export function responseHeaders(ids: EdgeIds): Record<string, string> {
  return {
    [ResponseHeaders.traceId]: ids.trace.traceId,
    [ResponseHeaders.correlationId]: ids.correlationId,
    [ResponseHeaders.traceparent]: ids.traceparent,
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}
