/** @module The middleware pipeline around outbound calls, inbound actions, emits and event handling. */

import type { Context } from "./context.js";
import type { ActionRef, EventRef } from "./contract.js";
import type { TraceContext } from "./trace-context.js";
import type { Delivery, EventEnvelope, RequestEnvelope } from "./transport/envelope.js";

/** A call leaving this process. Middleware may change the mutable fields before calling `next`. */
export interface OutboundCall {
  readonly ref: ActionRef;
  readonly ctx: Context;
  input: unknown;
  /** The trace context sent to the callee; a tracing middleware replaces it with its client span. */
  trace: TraceContext;
  timeoutMs: number;
  /** Target one instance (client-side balancing); absent lets the transport balance. */
  instance?: string;
  /** Affinity key from the call options. */
  key?: string;
  /** Strategy name from the call options. */
  strategy?: string;
  /** Version prefixes from the call options, most wanted first; the load-balancing middleware honours them. */
  versions?: readonly string[];
  /** 1 for the first attempt; a retrying middleware increments it. */
  attempt: number;
  /** Extra headers for the request. */
  headers?: Record<string, string>;
}

/** A request arriving at one of this process's services. `input` is validated by the time the handler runs. */
export interface InboundAction {
  readonly ref: ActionRef;
  readonly ctx: Context;
  readonly request: RequestEnvelope;
  input: unknown;
}

/**
 * An event a service emits. After the middleware, the instance builds its envelope from these fields
 * and hands it to the service's sink (the transport, or its outbox).
 */
export interface OutboundEvent {
  readonly ref: EventRef;
  readonly ctx: Context;
  /** The event's id (also its deduplication key downstream), fixed at emit. */
  readonly id: string;
  /** ISO-8601 time of emission. */
  readonly time: string;
  /** The data, already validated against the event's schema. */
  readonly data: unknown;
  /** The trace context handlers will see as their parent; a tracing middleware sets its producer span. */
  trace: TraceContext;
  /** Extra headers for the event. */
  headers?: Record<string, string>;
}

export interface InboundEvent {
  readonly ref: EventRef;
  readonly ctx: Context;
  readonly envelope: EventEnvelope;
  readonly delivery: Delivery;
  /** `service.handlerName`, or the handler name for broadcast handlers. */
  readonly subscription: string;
  /** The subscription asks for exactly-once handling (see `SubscriptionOptions.exactlyOnce`). */
  readonly exactlyOnce: boolean;
  data: unknown;
}

type Hook<T, R> = (invocation: T, next: () => Promise<R>) => Promise<R>;

export interface Middleware {
  readonly name: string;
  call?: Hook<OutboundCall, unknown>;
  action?: Hook<InboundAction, unknown>;
  emit?: Hook<OutboundEvent, void>;
  event?: Hook<InboundEvent, void>;
}

/**
 * Composes the hooks once, at start, into one function per kind; with no middleware the result is
 * the terminal itself, so an empty pipeline costs nothing per call.
 */
export function compose<K extends "call" | "action" | "emit" | "event", T, R>(
  middleware: readonly Middleware[],
  kind: K,
  terminal: (invocation: T) => Promise<R>,
): (invocation: T) => Promise<R> {
  let chain = terminal;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const hook = middleware[i]?.[kind] as Hook<T, R> | undefined;
    if (hook === undefined) continue;
    const next = chain;
    chain = (invocation) => hook(invocation, () => next(invocation));
  }
  return chain;
}
