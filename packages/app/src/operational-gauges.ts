/** @module Gauges read at scrape time: outbox backlog per service instance, consumer lag per group. */
import type { Transport } from "@flotilla/core";
import type { DatabaseProvider } from "@flotilla/data";
import { collectedGauge, type MetricsMiddleware } from "@flotilla/telemetry";

type MetricsRegistry = MetricsMiddleware["registry"];

/** Registers the gauges of one running app: its own databases' outboxes and its transport's groups. */
export function operationalGauges(registry: MetricsRegistry, databases: DatabaseProvider, transport: Transport): void {
  collectedGauge(registry, {
    name: "flotilla_outbox_backlog_events",
    help: "Committed events in a service's outbox that the broker has not confirmed yet.",
    labelNames: ["service", "instance"] as const,
    read: async () =>
      (await databases.backlogs()).map((b) => ({
        labels: { service: b.service, instance: b.instance },
        value: b.events,
      })),
  });
  collectedGauge(registry, {
    name: "flotilla_outbox_oldest_event_age_seconds",
    help: "Age of the oldest event waiting in a service's outbox (0 when empty).",
    labelNames: ["service", "instance"] as const,
    read: async () =>
      (await databases.backlogs()).map((b) => ({
        labels: { service: b.service, instance: b.instance },
        value: b.oldestAgeMs / 1000,
      })),
  });
  collectedGauge(registry, {
    name: "flotilla_consumer_lag_events",
    help: "Events not yet handled by a durable consumer group this process has members in.",
    labelNames: ["group"] as const,
    read: async () =>
      Object.entries((await transport.lag?.()) ?? {}).map(([group, value]) => ({ labels: { group }, value })),
  });
}
