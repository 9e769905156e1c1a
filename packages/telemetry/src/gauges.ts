/** @module Gauges read when scraped: values owned elsewhere (a backlog, a consumer's lag) shown as metrics. */
import { Gauge, type Registry } from "prom-client";

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

/** Registers a gauge whose values come from `read()` at scrape time. */
export function collectedGauge<L extends string>(registry: Registry, options: CollectedGaugeOptions<L>): void {
  new Gauge<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames,
    registers: [registry],
    async collect() {
      const readings = await options.read();
      this.reset();
      for (const reading of readings) this.set(reading.labels as Record<L, string>, reading.value);
    },
  });
}
