/** @module The ids a request carries into Flotilla: W3C trace context and the correlation id. */
import type { IncomingHttpHeaders } from "node:http";
import {
  childTraceContext,
  formatTraceparent,
  newTraceContext,
  parseTraceparent,
  type TraceContext,
} from "@flotilla/core";

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
}

export function edgeIds(headers: IncomingHttpHeaders): EdgeIds {
  const tracestate = single(headers.tracestate);
  const incoming = parseTraceparent(
    single(headers.traceparent),
    tracestate !== undefined && TRACESTATE.test(tracestate) ? tracestate : undefined,
  );
  // The gateway is a hop of its own: services see its span as their parent, and clients get it back.
  const trace = incoming === undefined ? newTraceContext() : childTraceContext(incoming);
  const sent = single(headers[ResponseHeaders.correlationId]);
  // Without one from the client, the trace id serves: it is unique already, costs no random draw, and
  // the runtime leaves a correlation id equal to the trace id off the wire.
  const correlationId = sent !== undefined && CORRELATION_ID.test(sent) ? sent : trace.traceId;
  return { trace, traceparent: formatTraceparent(trace), correlationId };
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
