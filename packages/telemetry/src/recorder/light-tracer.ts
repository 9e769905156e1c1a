/**
 * @module Flotilla's tracer: OpenTelemetry's `Tracer` and `TracerProvider` interfaces over
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
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { AlwaysOnSampler, ParentBasedSampler, type Sampler, SamplingDecision } from "@opentelemetry/sdk-trace-base";
import { RecordingSpan, type SpanDefaults } from "./recording-span.js";

export interface LightTracerOptions extends SpanDefaults {
  /** The head-sampling decision for new traces; parent-based always-on by default. */
  readonly sampler?: Sampler;
}

export class LightTracer implements Tracer {
  readonly #defaults: SpanDefaults;
  readonly #sampler: Sampler;

  constructor(options: LightTracerOptions) {
    this.#defaults = {
      service: options.service,
      sink: options.sink,
      ...(options.instance ? { instance: options.instance } : {}),
    };
    this.#sampler = options.sampler ?? new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }

  startSpan(name: string, options: SpanOptions = {}, context: Context = contextApi.active()): Span {
    const parent = options.root ? undefined : trace.getSpanContext(context);
    const valid = parent !== undefined && trace.isSpanContextValid(parent);
    const traceId = valid ? parent.traceId : newTraceId();
    const kind = options.kind ?? SpanKind.INTERNAL;
    const decision = this.#sampler.shouldSample(
      valid ? context : trace.deleteSpan(context),
      traceId,
      name,
      kind,
      options.attributes ?? {},
      options.links ?? [],
    );
    const sampled = decision.decision === SamplingDecision.RECORD_AND_SAMPLED;
    const spanContext: SpanContext = { traceId, spanId: newSpanId(), traceFlags: sampled ? 1 : 0 };
    const traceState = decision.traceState ?? (valid ? parent.traceState : undefined);
    if (traceState !== undefined) spanContext.traceState = traceState;
    const attributes = decision.attributes ? { ...options.attributes, ...decision.attributes } : options.attributes;
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

/** A provider handing out one `LightTracer` whatever scope asks (the scope is not recorded per span). */
export class LightTracerProvider implements TracerProvider {
  readonly tracer: LightTracer;

  constructor(options: LightTracerOptions) {
    this.tracer = new LightTracer(options);
  }

  getTracer(): Tracer {
    return this.tracer;
  }
}
