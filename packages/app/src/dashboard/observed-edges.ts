/**
 * @module Observed edges: the calls and events between services, read from the spans of a window. A call
 * edge is a CLIENT span of one service whose SERVER child runs in another (the gateway is a service like
 * any other); a saga's step is the orchestrator's PRODUCER span and the participant's SERVER child; an
 * event edge is a PRODUCER span and a CONSUMER child that handled it.
 */
import type { CallEdge, EventEdge } from "@flotilla/dashboard";
import { SpanKinds, type SpanRecord, SpanStatuses } from "@flotilla/telemetry";

export const DESTINATION = "messaging.destination.name";
export const CONSUMER_GROUP = "messaging.consumer.group.name";

/** A span and the span it answers (its parent), when the window holds both and they are in different services. */
export interface Hop {
  readonly parent: SpanRecord;
  readonly child: SpanRecord;
}

/** Each span whose parent is in the set and belongs to another service: the crossings between services. */
export function hops(spans: readonly SpanRecord[]): Hop[] {
  // By span id alone (random 64 bits), checking the trace on a match: no key to build per span.
  const byId = new Map<string, SpanRecord>();
  for (const span of spans) byId.set(span.spanId, span);
  const found: Hop[] = [];
  for (const child of spans) {
    if (child.parentSpanId === undefined) continue;
    const parent = byId.get(child.parentSpanId);
    if (parent !== undefined && parent.traceId === child.traceId && parent.service !== child.service)
      found.push({ parent, child });
  }
  return found;
}

/** A call between services: CLIENT → SERVER, or a saga's PRODUCER → SERVER. */
export function isCallHop({ parent, child }: Hop): boolean {
  return child.kind === SpanKinds.server && (parent.kind === SpanKinds.client || parent.kind === SpanKinds.producer);
}

/** An event handled by a subscriber: PRODUCER → CONSUMER of the same event type. */
export function isEventHop({ parent, child }: Hop): boolean {
  return (
    parent.kind === SpanKinds.producer &&
    child.kind === SpanKinds.consumer &&
    typeof child.attributes[DESTINATION] === "string" &&
    child.attributes[DESTINATION] === parent.attributes[DESTINATION]
  );
}

export function failed(span: SpanRecord): boolean {
  return span.status === SpanStatuses.error;
}

/** Call edges of the hops, by caller and callee; rates over `windowMs`. */
export function callEdges(found: readonly Hop[], windowMs: number): CallEdge[] {
  const groups = new Map<string, Hop[]>();
  for (const hop of found.filter(isCallHop)) {
    const via = hop.parent.kind === SpanKinds.producer ? "saga" : "call";
    const key = `${hop.parent.service}\u0000${hop.child.service}\u0000${via}`;
    push(groups, key, hop);
  }
  return [...groups.entries()]
    .map(([key, list]): CallEdge => {
      const [from = "", to = "", via] = key.split("\u0000");
      const errors = list.filter((h) => failed(h.child)).length;
      const durations = list.map((h) => h.child.durationMs).sort((a, b) => a - b);
      return {
        from,
        to,
        via: via === "saga" ? "saga" : "call",
        calls: list.length,
        perMinute: perMinute(list.length, windowMs),
        errors,
        errorRatio: ratio(errors, list.length),
        p50Ms: round(percentile(durations, 0.5)),
        p95Ms: round(percentile(durations, 0.95)),
        actions: [...new Set(list.map((h) => h.child.name))].sort(),
      };
    })
    .sort(byEnds);
}

/** Event edges of the hops, by publisher, consumer and type. */
export function eventEdges(found: readonly Hop[], windowMs: number): EventEdge[] {
  const groups = new Map<string, Hop[]>();
  for (const hop of found.filter(isEventHop)) {
    const key = `${hop.parent.service}\u0000${hop.child.service}\u0000${hop.child.attributes[DESTINATION]}`;
    push(groups, key, hop);
  }
  return [...groups.entries()]
    .map(([key, list]): EventEdge => {
      const [from = "", to = "", type = ""] = key.split("\u0000");
      const errors = list.filter((h) => failed(h.child)).length;
      return {
        from,
        to,
        type,
        groups: [...new Set(list.map((h) => String(h.child.attributes[CONSUMER_GROUP] ?? "")))].filter(Boolean).sort(),
        deliveries: list.length,
        perMinute: perMinute(list.length, windowMs),
        errors,
        errorRatio: ratio(errors, list.length),
      };
    })
    .sort((a, b) => byEnds(a, b) || a.type.localeCompare(b.type));
}

/** Adds `value` to the list of `key`, making the list on first use. */
export function push<K, V>(lists: Map<K, V[]>, key: K, value: V): void {
  const list = lists.get(key);
  if (list === undefined) lists.set(key, [value]);
  else list.push(value);
}

/** Nearest-rank percentile of sorted values; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}

function perMinute(count: number, windowMs: number): number {
  return round((count * 60_000) / Math.max(windowMs, 1));
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 1000) / 1000;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function byEnds(a: { from: string; to: string }, b: { from: string; to: string }): number {
  return a.from.localeCompare(b.from) || a.to.localeCompare(b.to);
}
