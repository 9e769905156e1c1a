/**
 * @module A finished span as Flotilla keeps it: the one shape the recorder produces, the trace stores
 * keep, the OTLP receiver decodes into and `flotilla trace` draws.
 */

export type AttributeValue = string | number | boolean | string[] | number[] | boolean[];

export interface SpanEventRecord {
  readonly name: string;
  /** Epoch milliseconds, fractional. */
  readonly timeMs: number;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface SpanLinkRecord {
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

/** OpenTelemetry's `SpanKind` values. */
export const SpanKinds = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 } as const;

/** OpenTelemetry's `SpanStatusCode` values. */
export const SpanStatuses = { unset: 0, ok: 1, error: 2 } as const;

export interface SpanRecord {
  /** 32 lowercase hex characters. */
  readonly traceId: string;
  /** 16 lowercase hex characters. */
  readonly spanId: string;
  /** Absent on a trace's root span. */
  readonly parentSpanId?: string;
  readonly name: string;
  /** One of `SpanKinds`. */
  readonly kind: number;
  /** When the span started: epoch milliseconds, fractional (microseconds kept). */
  readonly startMs: number;
  readonly durationMs: number;
  /** One of `SpanStatuses`. */
  readonly status: number;
  readonly statusMessage?: string;
  /** The service the span belongs to (OpenTelemetry's `service.name`); `gateway` for the edge. */
  readonly service: string;
  /** The process or instance that recorded it (`service.instance.id`). */
  readonly instance?: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly events?: readonly SpanEventRecord[];
  readonly links?: readonly SpanLinkRecord[];
  /** The head-sampling decision: only sampled spans leave the process over OTLP. */
  readonly sampled: boolean;
}
