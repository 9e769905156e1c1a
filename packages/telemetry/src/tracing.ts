/** @module The tracing middleware: one OpenTelemetry span per call, action, emit and handled event. */
import type { InboundAction, InboundEvent, Middleware, OutboundCall, OutboundEvent } from "@flotilla/core";
import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import * as attr from "./attributes.js";
import { failureOf } from "./outcome.js";
import { parentContext, remoteParent, SpanTrace } from "./trace-bridge.js";

export const INSTRUMENTATION_SCOPE = "@flotilla/telemetry";
const SCOPE_VERSION = "0.1.0";

export interface TracingOptions {
  /** The tracer to open spans with; wins over `tracerProvider`. */
  tracer?: Tracer;
  /** Where to get the tracer from; defaults to the globally registered provider (a no-op until one is). */
  tracerProvider?: TracerProvider;
  /**
   * Make each server and consumer span the active OpenTelemetry context while its handler runs, so
   * spans from other instrumentations (HTTP clients, database drivers) nest under it. Default true;
   * it costs next to nothing while no context manager is registered.
   */
  activate?: boolean;
}

/**
 * Opens a CLIENT span per outbound call, a SERVER span per inbound action, a PRODUCER span per emit
 * and a CONSUMER span per handled event, and hands each span's context to the next hop. List it first
 * among the middleware, so that the others (and their logs) see the spans as current.
 */
export function tracing(options: TracingOptions = {}): Middleware {
  const tracer =
    options.tracer ??
    (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE, SCOPE_VERSION);
  const activate = options.activate ?? true;
  const run = <T>(span: SpanTrace, next: () => Promise<T>): Promise<T> =>
    activate ? context.with(span.context, next) : next();

  return {
    name: "tracing",

    call(call: OutboundCall, next) {
      const { ref, ctx } = call;
      const attributes: Attributes = {
        [attr.RPC_SYSTEM]: attr.FLOTILLA_SYSTEM,
        [attr.RPC_SERVICE]: ref.service,
        [attr.RPC_METHOD]: ref.name,
      };
      if (ctx.service !== undefined) attributes[attr.FLOTILLA_SERVICE] = ctx.service;
      // Parent on the context's span, not on `call.trace`: a retry outside this middleware passes the
      // same call again, and its attempts are siblings, not each other's children.
      const span = tracer.startSpan(ref.fqn, { kind: SpanKind.CLIENT, attributes }, parentContext(ctx.trace));
      call.trace = new SpanTrace(span);
      return settle(span, next);
    },

    action(inv: InboundAction, next) {
      const { ref, ctx } = inv;
      const attributes: Attributes = {
        [attr.RPC_SYSTEM]: attr.FLOTILLA_SYSTEM,
        [attr.RPC_SERVICE]: ref.service,
        [attr.RPC_METHOD]: ref.name,
        [attr.FLOTILLA_SERVICE]: ref.service,
      };
      if (ctx.instance !== undefined) attributes[attr.FLOTILLA_INSTANCE] = ctx.instance;
      const span = tracer.startSpan(ref.fqn, { kind: SpanKind.SERVER, attributes }, remoteParent(ctx.trace));
      const current = new SpanTrace(span);
      ctx.trace = current;
      return settle(span, () => run(current, next));
    },

    emit(e: OutboundEvent, next) {
      const { ctx, ref } = e;
      const attributes: Attributes = {
        [attr.MESSAGING_SYSTEM]: attr.FLOTILLA_SYSTEM,
        [attr.MESSAGING_DESTINATION]: ref.type,
        [attr.MESSAGING_MESSAGE_ID]: e.id,
        [attr.MESSAGING_OPERATION_TYPE]: "send",
        [attr.MESSAGING_OPERATION_NAME]: "publish",
      };
      if (ctx.service !== undefined) attributes[attr.FLOTILLA_SERVICE] = ctx.service;
      const span = tracer.startSpan(
        `${ref.type} publish`,
        { kind: SpanKind.PRODUCER, attributes },
        parentContext(ctx.trace),
      );
      // Handlers of the event see the producer span as their parent.
      e.trace = new SpanTrace(span);
      return settle(span, next);
    },

    event(inv: InboundEvent, next) {
      const { ctx, envelope } = inv;
      const attributes: Attributes = {
        [attr.MESSAGING_SYSTEM]: attr.FLOTILLA_SYSTEM,
        [attr.MESSAGING_DESTINATION]: envelope.type,
        [attr.MESSAGING_MESSAGE_ID]: envelope.id,
        [attr.MESSAGING_OPERATION_TYPE]: "process",
        [attr.MESSAGING_OPERATION_NAME]: "process",
        [attr.MESSAGING_CONSUMER_GROUP]: inv.subscription,
        [attr.FLOTILLA_DELIVERY_ATTEMPT]: inv.delivery.attempt,
      };
      if (ctx.service !== undefined) attributes[attr.FLOTILLA_SERVICE] = ctx.service;
      if (ctx.instance !== undefined) attributes[attr.FLOTILLA_INSTANCE] = ctx.instance;
      const span = tracer.startSpan(
        `${envelope.type} process`,
        { kind: SpanKind.CONSUMER, attributes },
        remoteParent(ctx.trace),
      );
      const current = new SpanTrace(span);
      ctx.trace = current;
      return settle(span, () => run(current, next));
    },
  };
}

/**
 * Runs `next` and ends the span when it settles, marking it failed (with the error's code) if it throws.
 * Every span Flotilla opens around work ends this way (see `internal.ts`).
 */
export function settle<T>(span: Span, next: () => Promise<T>): Promise<T> {
  let result: Promise<T>;
  try {
    result = next();
  } catch (err) {
    result = Promise.reject(err);
  }
  return result.then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      fail(span, err);
      span.end();
      throw err;
    },
  );
}

function fail(span: Span, err: unknown): void {
  const failure = failureOf(err);
  span.setAttributes({
    [attr.ERROR_TYPE]: failure.code,
    [attr.ERROR_CODE]: failure.code,
    [attr.FLOTILLA_STATUS]: failure.status,
  });
  span.recordException(err instanceof Error ? err : { name: failure.code, message: failure.message });
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
}
