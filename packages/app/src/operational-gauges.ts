/**
 * @module Gauges read at scrape time: outbox backlog per service instance, consumer lag and dead
 * letters per group, circuit breaker states per target, and saga instances per state.
 */
import type { Middleware, ServiceDefinition, Transport } from "@flotilla/core";
import type { DatabaseProvider } from "@flotilla/data";
import { type BreakerState, isCircuitBreakers } from "@flotilla/resilience";
import { isSagaOrchestrator } from "@flotilla/saga";
import { collectedCounter, collectedGauge, type MetricsMiddleware } from "@flotilla/telemetry";

type MetricsRegistry = MetricsMiddleware["registry"];

/** What one running app has that the gauges read. */
export interface GaugeSources {
  readonly databases: DatabaseProvider;
  readonly transport: Transport;
  /** The services this process runs: their saga orchestrators are counted. */
  readonly services: readonly ServiceDefinition[];
  /** The call middleware: circuit breakers among it are shown. */
  readonly middleware: readonly Middleware[];
}

/** Closed 0, half-open 1, open 2 (isolated by hand counts as open): alert on `> 0`. */
const BREAKER_VALUES: Readonly<Record<BreakerState, number>> = { closed: 0, "half-open": 1, open: 2, isolated: 2 };

/** Registers the gauges of one running app in `registry`. */
export function operationalGauges(registry: MetricsRegistry, sources: GaugeSources): void {
  const { databases, transport } = sources;
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
  collectedCounter(registry, {
    name: "flotilla_idempotency_requests_total",
    help: "Requests with an idempotency key, by service and outcome (stored, replayed, reused, not_stored).",
    labelNames: ["service", "outcome"] as const,
    read: async () =>
      databases
        .idempotencyOutcomes()
        .map((o) => ({ labels: { service: o.service, outcome: o.outcome }, value: o.count })),
  });
  collectedGauge(registry, {
    name: "flotilla_consumer_lag_events",
    help: "Events not yet handled by a durable consumer group this process has members in.",
    labelNames: ["group"] as const,
    read: async () =>
      Object.entries((await transport.lag?.()) ?? {}).map(([group, value]) => ({ labels: { group }, value })),
  });
  collectedGauge(registry, {
    name: "flotilla_dead_letters",
    help: "Events waiting in the dead-letter queue, per durable consumer group this process has members in.",
    labelNames: ["group"] as const,
    read: async () =>
      Object.entries(await deadLetterCounts(transport)).map(([group, value]) => ({ labels: { group }, value })),
  });
  const breakers = sources.middleware.filter(isCircuitBreakers);
  collectedGauge(registry, {
    name: "flotilla_circuit_breaker_state",
    help: "State of this process's circuit breaker per called instance: 0 closed, 1 half-open, 2 open.",
    labelNames: ["target_service", "target_instance"] as const,
    read: async () =>
      breakers.flatMap((b) =>
        b.snapshot().map((s) => ({
          // A breaker over a whole service (calls that named no instance) shows as instance "*".
          labels: { target_service: s.service, target_instance: s.instance ?? "*" },
          value: BREAKER_VALUES[s.state],
        })),
      ),
  });
  const orchestrators = sources.services.flatMap((service) =>
    service.orchestrators.filter(isSagaOrchestrator).map((orchestrator) => ({ service: service.name, orchestrator })),
  );
  collectedGauge(registry, {
    name: "flotilla_sagas",
    help: "Saga instances in a service's database, by saga, version and state.",
    labelNames: ["service", "saga", "version", "state"] as const,
    read: async () =>
      (
        await Promise.all(
          orchestrators.map(async ({ service, orchestrator }) =>
            (
              await orchestrator.counts()
            ).map((c) => ({
              labels: { service, saga: c.type, version: String(c.version), state: c.status },
              value: c.count,
            })),
          ),
        )
      ).flat(),
  });
}

/** Letters per group of this process: counted by the store when it can, else from its list. */
async function deadLetterCounts(transport: Transport): Promise<Record<string, number>> {
  const store = transport.deadLetterStore;
  const groups = Object.keys((await transport.lag?.()) ?? {});
  if (store === undefined || groups.length === 0) return {};
  if (store.counts !== undefined) return store.counts(groups);
  const counts: Record<string, number> = Object.fromEntries(groups.map((g) => [g, 0]));
  for (const letter of await store.list()) {
    if (Object.hasOwn(counts, letter.group)) counts[letter.group] = (counts[letter.group] as number) + 1;
  }
  return counts;
}
