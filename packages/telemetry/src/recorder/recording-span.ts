/**
 * @module A span as Flotilla records it: a plain object behind OpenTelemetry's `Span` interface that,
 * when it ends, becomes one `SpanRecord` handed to the recorder's sink. No resource, no processor
 * chain, no attribute-limit bookkeeping per call: what a span costs is what it holds.
 */
import type {
  Attributes,
  Exception,
  Link,
  AttributeValue as OtelAttributeValue,
  Span,
  SpanContext,
  SpanStatus,
  TimeInput,
} from "@opentelemetry/api";
import { FLOTILLA_INSTANCE, FLOTILLA_SERVICE } from "../attributes.js";
import type { AttributeValue, SpanEventRecord, SpanLinkRecord, SpanRecord } from "../traces/span-record.js";

/** Where finished spans go. */
export interface SpanSink {
  /** Called once per span, synchronously, when it ends; must not throw. */
  onEnd(span: SpanRecord): void;
}

/** What every span of one recorder shares. */
export interface SpanDefaults {
  /** The service a span belongs to when it carries no `flotilla.service` attribute. */
  readonly service: string;
  readonly instance?: string;
  readonly sink: SpanSink;
}

// Wall-clock milliseconds with sub-millisecond precision, without a Date per reading.
const ORIGIN = performance.timeOrigin;

function nowMs(): number {
  return ORIGIN + performance.now();
}

/** `TimeInput` (epoch ms, `HrTime` or a `Date`) as fractional epoch milliseconds. */
export function toMs(time: TimeInput | undefined): number {
  if (time === undefined) return nowMs();
  if (typeof time === "number") {
    // A number below a year's worth of milliseconds since 1970 is a `performance.now()` reading.
    return time < 31_536_000_000 ? ORIGIN + time : time;
  }
  if (time instanceof Date) return time.getTime();
  return time[0] * 1000 + time[1] / 1e6;
}

export class RecordingSpan implements Span {
  readonly #context: SpanContext;
  readonly #parentSpanId: string | undefined;
  readonly #kind: number;
  readonly #defaults: SpanDefaults;
  readonly #startMs: number;
  #name: string;
  #attributes: Record<string, AttributeValue>;
  #events: SpanEventRecord[] | undefined;
  #links: SpanLinkRecord[] | undefined;
  #status = 0;
  #statusMessage: string | undefined;
  #ended = false;

  constructor(
    context: SpanContext,
    parentSpanId: string | undefined,
    name: string,
    kind: number,
    attributes: Attributes | undefined,
    links: readonly Link[] | undefined,
    startTime: TimeInput | undefined,
    defaults: SpanDefaults,
  ) {
    this.#context = context;
    this.#parentSpanId = parentSpanId;
    this.#name = name;
    this.#kind = kind;
    this.#defaults = defaults;
    this.#startMs = toMs(startTime);
    this.#attributes = {};
    if (attributes !== undefined) this.setAttributes(attributes);
    if (links !== undefined) this.addLinks([...links]);
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  setAttribute(key: string, value: OtelAttributeValue | undefined): this {
    if (!this.#ended && value !== undefined && value !== null) this.#attributes[key] = value as AttributeValue;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (this.#ended) return this;
    for (const key in attributes) {
      const value = attributes[key];
      if (value !== undefined && value !== null) this.#attributes[key] = value as AttributeValue;
    }
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.#ended) return this;
    let attributes: Attributes | undefined;
    if (isTimeInput(attributesOrTime)) time = attributesOrTime;
    else attributes = attributesOrTime;
    const event: SpanEventRecord = attributes
      ? { name, timeMs: toMs(time), attributes: copy(attributes) }
      : { name, timeMs: toMs(time) };
    this.#events ??= [];
    this.#events.push(event);
    return this;
  }

  addLink(link: Link): this {
    return this.addLinks([link]);
  }

  addLinks(links: Link[]): this {
    if (this.#ended) return this;
    for (const { context, attributes } of links) {
      const record: SpanLinkRecord = attributes
        ? { traceId: context.traceId, spanId: context.spanId, attributes: copy(attributes) }
        : { traceId: context.traceId, spanId: context.spanId };
      this.#links ??= [];
      this.#links.push(record);
    }
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.#ended) return this;
    // The specification: OK is final, and UNSET never overrides what was set.
    if (this.#status === 1 || status.code === 0) return this;
    this.#status = status.code;
    this.#statusMessage = status.code === 2 ? status.message : undefined;
    return this;
  }

  updateName(name: string): this {
    if (!this.#ended) this.#name = name;
    return this;
  }

  isRecording(): boolean {
    return !this.#ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === "string") attributes["exception.message"] = exception;
    else {
      const type = exception.name ?? (exception.code === undefined ? undefined : String(exception.code));
      if (type !== undefined) attributes["exception.type"] = type;
      if (exception.message !== undefined) attributes["exception.message"] = exception.message;
      if (exception.stack !== undefined) attributes["exception.stacktrace"] = exception.stack;
    }
    this.addEvent("exception", attributes, time);
  }

  end(endTime?: TimeInput): void {
    if (this.#ended) return;
    this.#ended = true;
    const endMs = toMs(endTime);
    const attributes = this.#attributes;
    const service = attributes[FLOTILLA_SERVICE];
    const instance = attributes[FLOTILLA_INSTANCE] ?? this.#defaults.instance;
    const record: { -readonly [K in keyof SpanRecord]: SpanRecord[K] } = {
      traceId: this.#context.traceId,
      spanId: this.#context.spanId,
      name: this.#name,
      kind: this.#kind,
      startMs: this.#startMs,
      durationMs: Math.max(0, endMs - this.#startMs),
      status: this.#status,
      service: typeof service === "string" ? service : this.#defaults.service,
      attributes,
      sampled: (this.#context.traceFlags & 1) === 1,
    };
    if (this.#parentSpanId !== undefined) record.parentSpanId = this.#parentSpanId;
    if (typeof instance === "string") record.instance = instance;
    if (this.#statusMessage !== undefined) record.statusMessage = this.#statusMessage;
    if (this.#events !== undefined) record.events = this.#events;
    if (this.#links !== undefined) record.links = this.#links;
    this.#defaults.sink.onEnd(record);
  }
}

function isTimeInput(value: Attributes | TimeInput | undefined): value is TimeInput {
  return typeof value === "number" || Array.isArray(value) || value instanceof Date;
}

function copy(attributes: Attributes): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined && value !== null) out[key] = value as AttributeValue;
  }
  return out;
}
