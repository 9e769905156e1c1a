/**
 * @module Flotilla's tracer: OpenTelemetry's `Tracer` interface over
 * `RecordingSpan`, so instrumentations written against the standard API record into Flotilla's sinks.
 * Every span is recorded; the sampler's decision only sets the sampled flag, which decides what leaves
 * the process over OTLP (the embedded store keeps unsampled traces that fail or run slow).
 */
import { newSpanId, newTraceId } from "@flotilla/core";
import {
  type Context,
  context as contextApi,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { type Sampler, SamplingDecision } from "@opentelemetry/sdk-trace-base";
import { RecordingSpan, type SpanDefaults } from "./recording-span.js";

export interface LightTracerOptions extends SpanDefaults {
  /**
   * The head-sampling decision; absent, parent-based always-on (the specification's default), decided
   * without a sampler call: a child follows its parent's flag, a new trace is sampled.
   */
  readonly sampler?: Sampler | undefined;
}

export class LightTracer implements Tracer {
  readonly #defaults: SpanDefaults;
  readonly #sampler: Sampler | undefined;

  constructor(options: LightTracerOptions) {
    this.#defaults = {
      service: options.service,
      sink: options.sink,
      ...(options.instance ? { instance: options.instance } : {}),
    };
    this.#sampler = options.sampler;
  }

  startSpan(name: string, options: SpanOptions = {}, context: Context = contextApi.active()): Span {
    const parent = options.root ? undefined : trace.getSpanContext(context);
    const valid = parent !== undefined && isValid(parent);
    const traceId = valid ? parent.traceId : newTraceId();
    const kind = options.kind ?? SpanKind.INTERNAL;
    let sampled = valid ? (parent.traceFlags & 1) === 1 : true;
    let traceState = valid ? parent.traceState : undefined;
    let attributes = options.attributes;
    if (this.#sampler !== undefined) {
      const decision = this.#sampler.shouldSample(
        valid ? context : trace.deleteSpan(context),
        traceId,
        name,
        kind,
        options.attributes ?? {},
        options.links ?? [],
      );
      sampled = decision.decision === SamplingDecision.RECORD_AND_SAMPLED;
      if (decision.traceState !== undefined) traceState = decision.traceState;
      if (decision.attributes) attributes = { ...options.attributes, ...decision.attributes };
    }
    const spanContext: SpanContext = { traceId, spanId: newSpanId(), traceFlags: sampled ? 1 : 0 };
    if (traceState !== undefined) spanContext.traceState = traceState;
    return new RecordingSpan(
      spanContext,
      valid ? parent.spanId : undefined,
      name,
      kind,
      attributes,
      options.links,
      options.startTime,
      this.#defaults,
    );
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    context: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a: SpanOptions | F,
    b?: Context | F,
    c?: F,
  ): ReturnType<F> {
    let options: SpanOptions = {};
    let parent: Context = contextApi.active();
    let fn: F;
    if (typeof a === "function") fn = a;
    else if (typeof b === "function") {
      options = a;
      fn = b;
    } else {
      options = a;
      parent = b ?? parent;
      fn = c as F;
    }
    const span = this.startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }
}

const INVALID_TRACE = "0".repeat(32);
const INVALID_SPAN = "0".repeat(16);

/**
 * A parent worth continuing. Ids that reach here were made by this recorder or parsed (and checked) by
 * core from a `traceparent`, so length and the all-zero ids are what is left to check; the API's own
 * check runs a regular expression over both ids per span.
 */
function isValid(sc: SpanContext): boolean {
  return (
    sc.traceId.length === 32 && sc.spanId.length === 16 && sc.traceId !== INVALID_TRACE && sc.spanId !== INVALID_SPAN
  );
}
