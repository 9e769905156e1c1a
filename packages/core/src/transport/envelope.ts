/** @module The messages every transport carries: requests and events, with their metadata headers. */
import type { Identity } from "../context.js";
import type { TraceContext } from "../trace-context.js";

/** Header names shared by every transport (lowercase; the NATS transport sends them as message headers). */
export const Headers = {
  traceparent: "traceparent",
  tracestate: "tracestate",
  correlationId: "flotilla-correlation-id",
  /** Milliseconds the callee has left, relative, so clocks need not agree across machines. */
  timeout: "flotilla-timeout-ms",
  /** JSON of the caller identity, set by the edge after it authenticated the request. */
  caller: "flotilla-caller",
  /** On an event redelivered from the dead-letter store: the one group that should handle it; others skip it. */
  retryGroup: "flotilla-retry-group",
} as const;

export type HeaderMap = Record<string, string>;

/**
 * The request metadata as objects. A transport that passes objects within one process (the in-process
 * transport, by reference) carries this instead of formatting headers the callee would parse again.
 */
export interface CallMeta {
  readonly trace: TraceContext;
  readonly correlationId: string;
  readonly caller: Identity | undefined;
  /** Epoch milliseconds; caller and callee share one clock. */
  readonly deadline: number;
}

export interface RequestEnvelope {
  /** Request id, unique per attempt; also the correlation key between request and reply. */
  readonly id: string;
  /** The target service (the queue group). */
  readonly service: string;
  /** `service.action`. */
  readonly action: string;
  /** Address of one instance when the caller balances client-side; absent for queue-group balancing. */
  readonly instance?: string;
  /** Metadata as headers; with `meta`, only extra headers set by middleware. */
  readonly headers: HeaderMap;
  readonly payload: unknown;
  /** Present only on transports that pass objects (see `Transport.passesObjects`). */
  readonly meta?: CallMeta;
}

/** An event as it travels, CloudEvents 1.0 attributes plus Flotilla's extensions in `headers`. */
export interface EventEnvelope {
  readonly id: string;
  /** `service.EventName`. */
  readonly type: string;
  /** The emitting service. */
  readonly source: string;
  /** Schema version of `data`. */
  readonly version: number;
  /** ISO-8601 time of emission. */
  readonly time: string;
  readonly headers: HeaderMap;
  readonly data: unknown;
}

/** Delivery metadata the transport adds when it hands an event to a handler. */
export interface Delivery {
  /** 1 for the first delivery, incremented on each redelivery. */
  readonly attempt: number;
}
