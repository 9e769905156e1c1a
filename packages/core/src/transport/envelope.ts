/** @module The messages every transport carries: requests and events, with their metadata headers. */
import type { CallMeta } from "./metadata.js";

/** Header names shared by every transport (lowercase; the NATS transport sends them as message headers). */
export const Headers = {
  traceparent: "traceparent",
  tracestate: "tracestate",
  /** W3C Baggage: the caller's key-value pairs, passed along unchanged (bounded, see metadata.ts). */
  baggage: "baggage",
  correlationId: "flotilla-correlation-id",
  /** Milliseconds the callee has left, relative, so clocks need not agree across machines. */
  timeout: "flotilla-timeout-ms",
  /** The caller's proof: an assertion the edge signed after it authenticated the request (see caller-proof.ts). */
  caller: "flotilla-caller",
  /** On an event redelivered from the dead-letter store: the one group that should handle it; others skip it. */
  retryGroup: "flotilla-retry-group",
  /** On an event: who it concerns, `user:<id>`, set by the emitter from its contract (see docs/live.md). */
  audience: "flotilla-audience",
  /** On a request: the caller's idempotency key, for an action that accepts one (see idempotency-key.ts). */
  idempotencyKey: "idempotency-key",
} as const;

export type HeaderMap = Record<string, string>;

export interface RequestEnvelope {
  /** The target service (the queue group). */
  readonly service: string;
  /** `service.action`. */
  readonly action: string;
  /** Address of one instance when the caller balances client-side; absent for queue-group balancing. */
  readonly instance?: string;
  /**
   * Trace, correlation, caller and deadline, as objects on every transport: one in-process hands them
   * over as they are; one that crosses a wire writes and reads them as headers (see metadata.ts).
   */
  readonly meta: CallMeta;
  /** Extra headers set by middleware; they travel as they are. */
  readonly headers?: HeaderMap;
  readonly payload: unknown;
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
  /**
   * Where the event sits in the transport's history (a JetStream stream and its sequence; the event
   * journal's sequence in-process); absent when the transport retains none.
   */
  readonly position?: EventPosition;
}

/** An event's place in a retained history: positions of one stream grow with every event and are never reused. */
export interface EventPosition {
  readonly stream: string;
  readonly seq: number;
}
