/**
 * @module Invalidation by events: one broadcast subscription per gateway to the events cached routes
 * name, over the app's own transport, so every gateway instance drops the entries an event names.
 */
import { type EventEnvelope, type Host, parseOrThrow, parseTraceparent, type Subscription } from "@flotilla/core";
import { remoteParent } from "@flotilla/telemetry/internal";
import { ROOT_CONTEXT, SpanKind } from "@opentelemetry/api";
import type { Route } from "../route.js";
import type { CacheInvalidation } from "./cache-options.js";
import type { ResponseCache } from "./response-cache.js";

interface Rule {
  readonly invalidation: CacheInvalidation;
  /** The declaring route's tag: what a rule without tags drops, and what a rule whose tags fail drops. */
  readonly routeTag: string;
}

export class CacheInvalidator {
  private readonly rules = new Map<string, Rule[]>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly host: Host,
    private readonly cache: ResponseCache,
    routes: readonly Route[],
    private readonly log: Host["log"],
  ) {
    for (const route of routes) {
      for (const invalidation of route.cache?.invalidateOn ?? []) {
        const list = this.rules.get(invalidation.event.type) ?? [];
        list.push({ invalidation, routeTag: route.cache!.routeTag });
        this.rules.set(invalidation.event.type, list);
      }
    }
  }

  async start(): Promise<void> {
    if (this.subscription !== undefined || this.rules.size === 0) return;
    // Broadcast (no group): every gateway instance gets every such event while it runs, as live push does.
    this.subscription = await this.host.transport.subscribe(
      {
        types: [...this.rules.keys()],
        instance: `gateway-cache-${this.host.id}`,
        maxInFlight: 256,
        maxDeliveries: 1,
        backoffMs: () => 0,
      },
      this.onEvent,
    );
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  private readonly onEvent = async (event: EventEnvelope): Promise<void> => {
    const span = this.host.tracer?.startSpan(
      `cache invalidate ${event.type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: { "flotilla.service": "gateway", "messaging.message.id": event.id },
      },
      parentOf(event),
    );
    const tags = new Set<string>();
    for (const rule of this.rules.get(event.type) ?? []) for (const tag of this.tagsOf(rule, event)) tags.add(tag);
    const dropped = this.cache.invalidate([...tags]);
    span?.setAttribute("flotilla.cache.dropped", dropped);
    span?.end();
  };

  /** A rule whose event does not parse, or whose tags function throws, drops its whole route: never a stale answer. */
  private tagsOf(rule: Rule, event: EventEnvelope): readonly string[] {
    const { invalidation, routeTag } = rule;
    if (invalidation.tags === undefined) return [routeTag];
    try {
      return invalidation.tags(parseOrThrow(invalidation.event.schema, event.data, `data of ${event.type}`));
    } catch (err) {
      this.log.warn(
        { err, event_type: event.type, event_id: event.id },
        "cache invalidation: dropping the whole route",
      );
      return [routeTag];
    }
  }
}

function parentOf(event: EventEnvelope) {
  const parent = parseTraceparent(event.headers.traceparent, event.headers.tracestate);
  return parent === undefined ? ROOT_CONTEXT : remoteParent(parent);
}
