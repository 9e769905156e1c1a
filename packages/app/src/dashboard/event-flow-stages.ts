/**
 * @module An event's path read from its spans: the emit (the PRODUCER span `X publish`: storing it in the
 * outbox, or handing it to the transport), the wait until a group's handler starts (the outbox relay, the
 * broker and the group's queue: from the emit's end to the CONSUMER span `X process`), the handler (that
 * span) and its `db transaction` (the inbox record, the handler's writes and the events it emits).
 */
import { attributes as attr, SpanKinds, type SpanRecord, SpanStatuses } from "@flotilla/telemetry";

/** One delivery of an event to a group, as its spans tell it. */
export interface DeliveryPath {
  readonly group: string;
  readonly service: string;
  readonly attempt: number;
  /** When the handler started (epoch ms). */
  readonly startMs: number;
  /** From the emit's end to the handler's start: outbox, relay, broker, queue; absent without the emit's span. */
  readonly waitMs: number | undefined;
  readonly handlerMs: number;
  /** The handler's `db transaction`, when it ran in one. */
  readonly transactionMs: number | undefined;
  readonly ok: boolean;
}

export interface EventPath {
  readonly id: string;
  readonly type: string;
  readonly traceId: string;
  readonly emit: { readonly service: string; readonly startMs: number; readonly durationMs: number } | undefined;
  readonly deliveries: readonly DeliveryPath[];
}

/** Times of a stage over many events: how many were seen, the median and the 95th percentile (ms). */
export interface StageTimes {
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
}

const messageId = (s: SpanRecord) => s.attributes[attr.MESSAGING_MESSAGE_ID];

export function isEmit(s: SpanRecord): boolean {
  return s.kind === SpanKinds.producer && typeof messageId(s) === "string" && s.name.endsWith(" publish");
}

export function isHandling(s: SpanRecord): boolean {
  return s.kind === SpanKinds.consumer && typeof messageId(s) === "string" && s.name.endsWith(" process");
}

/** The paths of the events found in `spans` (any number of traces), by event id. */
export function eventPaths(spans: readonly SpanRecord[]): Map<string, EventPath> {
  const transactions = new Map<string, SpanRecord>();
  for (const s of spans) if (s.name === "db transaction" && s.parentSpanId) transactions.set(s.parentSpanId, s);
  const emits = new Map<string, SpanRecord>();
  for (const s of spans) if (isEmit(s)) emits.set(String(messageId(s)), s);
  const deliveries = new Map<string, DeliveryPath[]>();
  const types = new Map<string, { type: string; traceId: string }>();
  for (const s of spans) {
    if (!isHandling(s)) continue;
    const id = String(messageId(s));
    const emit = emits.get(id);
    const path: DeliveryPath = {
      group: String(s.attributes[attr.MESSAGING_CONSUMER_GROUP] ?? "?"),
      service: s.service,
      attempt: Number(s.attributes[attr.FLOTILLA_DELIVERY_ATTEMPT] ?? 1),
      startMs: s.startMs,
      waitMs: emit === undefined ? undefined : Math.max(0, s.startMs - (emit.startMs + emit.durationMs)),
      handlerMs: s.durationMs,
      transactionMs: transactions.get(s.spanId)?.durationMs,
      ok: s.status !== SpanStatuses.error,
    };
    const list = deliveries.get(id) ?? [];
    list.push(path);
    deliveries.set(id, list);
    types.set(id, { type: String(s.attributes[attr.MESSAGING_DESTINATION] ?? ""), traceId: s.traceId });
  }
  const paths = new Map<string, EventPath>();
  for (const id of new Set([...emits.keys(), ...deliveries.keys()])) {
    const emit = emits.get(id);
    const known = types.get(id);
    paths.set(id, {
      id,
      type: String(emit?.attributes[attr.MESSAGING_DESTINATION] ?? known?.type ?? ""),
      traceId: emit?.traceId ?? known?.traceId ?? "",
      emit: emit && { service: emit.service, startMs: emit.startMs, durationMs: emit.durationMs },
      deliveries: (deliveries.get(id) ?? []).sort((a, b) => a.startMs - b.startMs),
    });
  }
  return paths;
}

/** The median and 95th percentile of `values` (nearest rank); undefined for none. */
export function stageTimes(values: readonly number[]): StageTimes | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
  return { count: sorted.length, p50Ms: round(rank(0.5)), p95Ms: round(rank(0.95)) };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
