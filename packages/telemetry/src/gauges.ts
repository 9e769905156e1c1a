/** @module Gauges read when scraped: values owned elsewhere (a backlog, a consumer's lag) shown as metrics. */
import { Counter, Gauge, type Registry } from "prom-client";

export interface GaugeReading<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly value: number;
}

export interface CollectedGaugeOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Called on every scrape; whatever it returns replaces the previous readings. */
  read(): Promise<readonly GaugeReading<L>[]>;
}

const COLLECT_FAILURES = "flotilla_collect_failures_total";

/**
 * Registers a gauge whose values come from `read()` at scrape time. A read that fails (the broker
 * unreachable) leaves the gauge without readings for that scrape and counts in
 * `flotilla_collect_failures_total` (from the next scrape on, as a scrape reads every metric at once):
 * the other metrics are still served.
 */
export function collectedGauge<L extends string>(registry: Registry, options: CollectedGaugeOptions<L>): void {
  const failures = collectFailures(registry).labels(options.name);
  failures.inc(0);
  new Gauge<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames,
    registers: [registry],
    async collect() {
      let readings: readonly GaugeReading<L>[];
      try {
        readings = await options.read();
      } catch {
        readings = [];
        failures.inc();
      }
      this.reset();
      for (const reading of readings) this.set(reading.labels as Record<L, string>, reading.value);
    },
  });
}

/**
 * A counter whose totals are kept elsewhere (a running count the process keeps) and read at scrape
 * time, as `collectedGauge` reads gauges; the totals must only grow.
 */
export function collectedCounter<L extends string>(registry: Registry, options: CollectedGaugeOptions<L>): void {
  new Counter<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames,
    registers: [registry],
    async collect() {
      const readings = await options.read();
      this.reset();
      for (const reading of readings) this.inc(reading.labels as Record<L, string>, reading.value);
    },
  });
}

function collectFailures(registry: Registry): Counter<"metric"> {
  const existing = registry.getSingleMetric(COLLECT_FAILURES);
  if (existing !== undefined) return existing as Counter<"metric">;
  return new Counter({
    name: COLLECT_FAILURES,
    help: "Scrapes where a metric read at scrape time could not be read (it showed no values), by metric.",
    labelNames: ["metric"] as const,
    registers: [registry],
  });
}
