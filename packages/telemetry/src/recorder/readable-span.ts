/**
 * @module A `SpanRecord` as the OpenTelemetry SDK's `ReadableSpan`, made only when a span is exported,
 * so the standard OTLP exporters (and any SDK exporter) can send Flotilla's spans.
 */
import type { HrTime, Link, SpanContext } from "@opentelemetry/api";
import { type Resource, resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import type { SpanRecord } from "../traces/span-record.js";

const SCOPE = { name: "@flotilla/telemetry", version: "0.1.0" } as const;

/** One resource per service and instance: the exporter groups spans by resource object. */
export class Resources {
  readonly #byKey = new Map<string, Resource>();

  constructor(private readonly base: Readonly<Record<string, string>> = {}) {}

  of(service: string, instance: string | undefined): Resource {
    const key = instance === undefined ? service : `${service}\u0000${instance}`;
    let resource = this.#byKey.get(key);
    if (resource === undefined) {
      const attributes: Record<string, string> = {
        ...this.base,
        "service.name": service,
        "telemetry.sdk.name": "flotilla",
        "telemetry.sdk.language": "nodejs",
      };
      if (instance !== undefined) attributes["service.instance.id"] = instance;
      resource = resourceFromAttributes(attributes);
      this.#byKey.set(key, resource);
    }
    return resource;
  }
}

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

export function toReadableSpan(span: SpanRecord, resources: Resources): ReadableSpan {
  const context: SpanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags: span.sampled ? 1 : 0 };
  const links: Link[] = (span.links ?? []).map((l) => ({
    context: { traceId: l.traceId, spanId: l.spanId, traceFlags: 1 },
    ...(l.attributes ? { attributes: { ...l.attributes } } : {}),
  }));
  const events: TimedEvent[] = (span.events ?? []).map((e) => ({
    name: e.name,
    time: hrTime(e.timeMs),
    ...(e.attributes ? { attributes: { ...e.attributes } } : {}),
  }));
  const readable: ReadableSpan = {
    name: span.name,
    kind: span.kind,
    spanContext: () => context,
    startTime: hrTime(span.startMs),
    endTime: hrTime(span.startMs + span.durationMs),
    duration: hrTime(span.durationMs),
    status:
      span.statusMessage === undefined ? { code: span.status } : { code: span.status, message: span.statusMessage },
    attributes: { ...span.attributes },
    links,
    events,
    ended: true,
    resource: resources.of(span.service, span.instance),
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
  if (span.parentSpanId !== undefined) {
    (readable as { parentSpanContext?: SpanContext }).parentSpanContext = {
      traceId: span.traceId,
      spanId: span.parentSpanId,
      traceFlags: context.traceFlags,
    };
  }
  return readable;
}
