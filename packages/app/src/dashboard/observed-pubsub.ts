/**
 * @module The observed pub/sub map: per event type, who was seen publishing it and who consuming it (by
 * consumer group), set against what the app declares (the contract that owns the event, the services'
 * subscriptions), with each disagreement said in words.
 */
import type { ObservedConsumer, PubSubEntry, PubSubMismatch } from "@flotilla/dashboard";
import { SpanKinds, type SpanRecord } from "@flotilla/telemetry";
import type { FlotillaApp } from "../app.js";
import { CONSUMER_GROUP, DESTINATION } from "./observed-edges.js";

/** What the app declares about its events. */
export interface DeclaredPubSub {
  /** Each event type and the service whose contract declares it. */
  readonly events: readonly { readonly type: string; readonly service: string }[];
  /** Each subscription: the subscribing service, its consumer group and the event type. */
  readonly subscriptions: readonly { readonly service: string; readonly group: string; readonly type: string }[];
}

/** The declarations of an app's services: their contracts' events and their subscriptions. */
export function declaredPubSub(app: FlotillaApp | undefined): DeclaredPubSub {
  const events: { type: string; service: string }[] = [];
  const subscriptions: { service: string; group: string; type: string }[] = [];
  for (const service of app?.services ?? []) {
    for (const ref of Object.values(service.contract.events)) events.push({ type: ref.type, service: ref.service });
    for (const sub of service.subscriptions) {
      // The group a handler consumes in, as the host names it (a broadcast handler keeps its own name).
      const group = sub.broadcast ? sub.name : `${service.name}.${sub.name}`;
      subscriptions.push({ service: service.name, group, type: sub.event.type });
    }
  }
  return { events, subscriptions };
}

/** A publish: a PRODUCER span naming an event type (a saga's command names none). */
function publishedType(span: SpanRecord): string | undefined {
  const type = span.attributes[DESTINATION];
  return span.kind === SpanKinds.producer && typeof type === "string" ? type : undefined;
}

/** A handled event: a CONSUMER span of a subscription (with its consumer group). */
function consumed(span: SpanRecord): { type: string; group: string } | undefined {
  const type = span.attributes[DESTINATION];
  const group = span.attributes[CONSUMER_GROUP];
  if (span.kind !== SpanKinds.consumer || typeof type !== "string" || typeof group !== "string") return undefined;
  return { type, group };
}

/** The pub/sub map of the spans of a window, by event type. */
export function pubSubMap(spans: readonly SpanRecord[], declared: DeclaredPubSub): PubSubEntry[] {
  const published = new Map<string, Map<string, number>>();
  const consumers = new Map<string, Map<string, { service: string; group: string; deliveries: number }>>();
  for (const span of spans) {
    const type = publishedType(span);
    if (type !== undefined) {
      const by = published.get(type) ?? new Map<string, number>();
      by.set(span.service, (by.get(span.service) ?? 0) + 1);
      published.set(type, by);
      continue;
    }
    const handled = consumed(span);
    if (handled !== undefined) {
      const by = consumers.get(handled.type) ?? new Map();
      const key = `${span.service}\u0000${handled.group}`;
      const seen = by.get(key) ?? { service: span.service, group: handled.group, deliveries: 0 };
      by.set(key, { ...seen, deliveries: seen.deliveries + 1 });
      consumers.set(handled.type, by);
    }
  }
  const types = new Set([
    ...declared.events.map((e) => e.type),
    ...declared.subscriptions.map((s) => s.type),
    ...published.keys(),
    ...consumers.keys(),
  ]);
  return [...types].sort().map((type): PubSubEntry => {
    const subscribers = declared.subscriptions
      .filter((s) => s.type === type)
      .map(({ service, group }) => ({ service, group }))
      .sort((a, b) => a.group.localeCompare(b.group));
    const declaring = new Set(subscribers.map((s) => s.service));
    const publishers = [...(published.get(type) ?? new Map<string, number>()).entries()]
      .map(([service, count]) => ({ service, published: count }))
      .sort((a, b) => a.service.localeCompare(b.service));
    const seen = [...(consumers.get(type)?.values() ?? [])]
      .map((c): ObservedConsumer => ({ ...c, declared: declaring.has(c.service) }))
      .sort((a, b) => a.group.localeCompare(b.group));
    const declaredBy = declared.events.find((e) => e.type === type)?.service ?? null;
    return {
      type,
      declaredBy,
      subscribers,
      publishers,
      consumers: seen,
      mismatches: mismatches(declaredBy, subscribers, publishers, seen),
    };
  });
}

function mismatches(
  declaredBy: string | null,
  subscribers: readonly { service: string; group: string }[],
  publishers: readonly { service: string; published: number }[],
  consumers: readonly ObservedConsumer[],
): PubSubMismatch[] {
  const found: PubSubMismatch[] = [];
  const publishes = publishers.reduce((n, p) => n + p.published, 0);
  if (publishes > 0 && consumers.length === 0) {
    found.push({
      kind: "published-never-consumed",
      text:
        `published ${times(publishes)} by ${list(publishers.map((p) => p.service))}, consumed by no one` +
        (subscribers.length === 0
          ? ": no service subscribes to it"
          : `, though ${list(unique(subscribers.map((s) => s.service)))} subscribe${subscribers.length === 1 ? "s" : ""}`),
    });
  }
  if (publishes === 0 && consumers.length > 0) {
    found.push({
      kind: "consumed-never-published",
      text: `consumed by ${list(unique(consumers.map((c) => c.service)))}, but no publish of it was seen (its publisher sends no spans here)`,
    });
  } else if (publishes === 0 && subscribers.length > 0) {
    found.push({
      kind: "consumed-never-published",
      text: `${list(unique(subscribers.map((s) => s.service)))} subscribe${unique(subscribers.map((s) => s.service)).length === 1 ? "s" : ""} to it, but it was not published in the window`,
    });
  }
  const others = publishers.filter((p) => p.service !== declaredBy).map((p) => p.service);
  if (others.length > 0) {
    found.push({
      kind: "publisher-differs",
      text:
        declaredBy === null
          ? `published by ${list(others)}, but no contract of the app declares it`
          : `declared by the ${declaredBy} contract, but published by ${list(others)}`,
    });
  }
  for (const c of consumers.filter((c) => !c.declared)) {
    found.push({
      kind: "undeclared-consumer",
      text: `consumed by ${c.service} (group ${c.group}), which declares no subscription to it`,
    });
  }
  return found;
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

function times(n: number): string {
  return n === 1 ? "once" : `${n} times`;
}

function list(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}
