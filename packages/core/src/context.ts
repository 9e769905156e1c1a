/** @module The context every handler gets: call, emit, log, trace, correlation, caller and deadline. */

import {
  createTraceState,
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { Logger } from "pino";
import type { z } from "zod";
import type { ActionRef, EventRef, InputOf, OutputOf, Schema } from "./contract.js";
import { FlotillaError } from "./errors.js";
import type { TraceContext } from "./trace-context.js";

/** Who is calling, as established by the edge (the gateway) after authentication. */
export interface Identity {
  readonly subject: string;
  readonly roles: readonly string[];
  readonly tier?: string;
  readonly tenant?: string;
  /**
   * The signed assertion that proves this identity where it crosses a wire (the edge signs it). A
   * caller without one never leaves its process: a transport carries the proof, not the claims.
   */
  readonly proof?: string;
  /** Epoch milliseconds after which `proof` proves nothing; calls made later carry no caller. */
  readonly expiresAt?: number;
}

export interface CallOptions {
  /** Upper bound for this call; the context's remaining deadline still applies. */
  timeoutMs?: number;
  /** Address one instance directly (bypasses balancing). */
  instance?: string;
  /** Affinity key (e.g. an order id): key-affinity balancing sends equal keys to the same instance. */
  key?: string;
  /** Balancing strategy for this call, by name; overrides the service's configured one. */
  strategy?: string;
  /**
   * For an action that accepts one (`idempotencyKey` in its contract): a repeat with the same key gets
   * the first answer, without the action running again. Sent as the `idempotency-key` header.
   */
  idempotencyKey?: string;
  /**
   * Version prefixes of the callee's contract, most wanted first (`"2"` matches 2.0.0 and 2.3.1, not
   * 20.1.0): client-side balancing picks among the ready instances of the first prefix that has any, and
   * among all ready instances when none has. Needs a registry; the gateway's version splits set it.
   */
  versions?: readonly string[];
}

/**
 * Where a context sends its calls and emits: the outbound path of the instance it belongs to (or the
 * edge's). Kept narrow so contexts stay cheap to create.
 */
export interface Dispatcher {
  readonly defaultCallTimeoutMs: number;
  dispatch(ctx: Context, ref: ActionRef, input: unknown, opts: CallOptions | undefined): Promise<unknown>;
  emit(ctx: Context, ref: EventRef, data: unknown): Promise<void>;
  logger(ctx: Context): Logger;
  /** The tracer of the host this work runs on; undefined when tracing is off. */
  readonly tracer?: Tracer | undefined;
}

export interface ContextInit<DB = unknown> {
  readonly service: string | undefined;
  readonly instance: string | undefined;
  readonly trace: TraceContext;
  readonly correlationId: string;
  readonly caller: Identity | undefined;
  readonly deadline: number;
  readonly db: DB;
  readonly baggage?: string | undefined;
}

export class Context<DB = unknown> {
  /** The service handling this work; undefined for contexts made at the edge. */
  readonly service: string | undefined;
  readonly instance: string | undefined;
  /** The current span's trace context; a tracing middleware replaces it with the span it opened. */
  trace: TraceContext;
  readonly correlationId: string;
  readonly caller: Identity | undefined;
  /** Epoch milliseconds after which this work is useless to whoever asked for it. */
  readonly deadline: number;
  /** W3C Baggage (the `baggage` header) this work arrived with; every call and event it makes carries it on. */
  readonly baggage: string | undefined;
  /** This service's own database (the `database` it declared); never another service's. */
  db: DB;
  private _log: Logger | undefined;
  private _signal: AbortSignal | undefined;

  constructor(
    private readonly dispatcher: Dispatcher,
    init: ContextInit<DB>,
  ) {
    this.service = init.service;
    this.instance = init.instance;
    this.trace = init.trace;
    this.correlationId = init.correlationId;
    this.caller = init.caller;
    this.deadline = init.deadline;
    this.baggage = init.baggage;
    this.db = init.db;
  }

  /** A pino logger carrying service, instance, trace and correlation ids (made on first use). */
  get log(): Logger {
    this._log ??= this.dispatcher.logger(this);
    return this._log;
  }

  /** Aborts when the deadline passes: hand it to fetch, timers or queries to stop useless work. */
  get signal(): AbortSignal {
    this._signal ??= AbortSignal.timeout(Math.max(0, this.deadline - Date.now()));
    return this._signal;
  }

  remainingMs(): number {
    return this.deadline - Date.now();
  }

  /** Calls an action of any service, wherever it runs; input and output are typed by the contract. */
  call<R extends ActionRef>(ref: R, input: InputOf<R>, opts?: CallOptions): Promise<OutputOf<R>> {
    return this.dispatcher.dispatch(this, ref, input, opts) as Promise<OutputOf<R>>;
  }

  /** Emits one of this service's own events. */
  emit<S extends Schema>(ref: EventRef<S>, data: z.input<S>): Promise<void> {
    return this.dispatcher.emit(this, ref, data);
  }

  /**
   * The host's tracer (undefined when tracing is off): for spans that start traces of their own, such
   * as a background loop's rounds begun in a `start` hook. Within a handler, `startSpan` is simpler.
   */
  get tracer(): Tracer | undefined {
    return this.dispatcher.tracer;
  }

  /**
   * Starts a span of your own as a child of this work's span (a sync pass, a call to a third party),
   * with the host's tracer; end it yourself. Without tracing it is a span that records nothing.
   */
  startSpan(name: string, options?: SpanOptions): Span {
    const tracer = this.dispatcher.tracer;
    if (tracer === undefined) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const { traceId, spanId, flags, tracestate } = this.trace;
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId,
      spanId,
      traceFlags: flags,
      isRemote: false,
      ...(tracestate === undefined ? {} : { traceState: createTraceState(tracestate) }),
    });
    return tracer.startSpan(name, options, parent);
  }

  /** Throws DEADLINE_EXCEEDED if the deadline has passed: a cheap check between expensive steps. */
  checkDeadline(): void {
    if (Date.now() >= this.deadline) {
      throw new FlotillaError("DEADLINE_EXCEEDED", "deadline passed");
    }
  }
}
