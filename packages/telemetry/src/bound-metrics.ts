/**
 * @module Histograms and counters whose label values are bound once, so recording is a few array
 * writes. prom-client's own label-bound children still validate and hash their labels on every
 * observation (~0.6 µs here, several per call); these register in a prom-client `Registry` like its
 * own metrics, so exposition, default labels, merging and cluster aggregation all stay prom-client's.
 */
import type { Metric, Registry } from "prom-client";

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  /** Labels common to every sample of one series, formatted once and cached by prom-client. */
  sharedLabels?: Record<string, string>;
  metricName?: string;
}

interface MetricConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: readonly Registry[];
}

/** What a prom-client Registry asks of a metric: its description, its samples, and a reset. */
abstract class BoundMetric<L extends string, S> {
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly aggregator = "sum";
  abstract readonly type: "histogram" | "counter";
  /** Writable: a registry in OpenMetrics mode renames counters. */
  name: string;
  protected readonly series = new Map<string, { labels: Record<L, string>; series: S }>();

  constructor(config: MetricConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    // The registry only reads the members above; its typings list its own metric classes alone.
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series for these label values (in `labelNames` order), made on first use; keep and reuse it. */
  labels(...values: string[]): S {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name} takes ${this.labelNames.length} label values, got ${values.length}`);
    }
    const key = values.join("\u0000");
    let entry = this.series.get(key);
    if (entry === undefined) {
      const labels = Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]])) as Record<L, string>;
      entry = { labels, series: this.create() };
      this.series.set(key, entry);
    }
    return entry.series;
  }

  protected abstract create(): S;
  abstract reset(): void;
}

export class HistogramSeries {
  sum = 0;
  count = 0;
  /** Non-cumulative: `counts[i]` holds observations in (bounds[i-1], bounds[i]]; the last, above all bounds. */
  readonly counts: Float64Array;

  constructor(private readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

export class BoundHistogram<L extends string> extends BoundMetric<L, HistogramSeries> {
  readonly type = "histogram";
  private readonly bounds: Float64Array;

  constructor(config: MetricConfig<L> & { buckets: readonly number[] }) {
    super(config);
    this.bounds = Float64Array.from([...new Set(config.buckets)].sort((a, b) => a - b));
  }

  protected create(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }

  async get() {
    const values: Sample[] = [];
    for (const { labels, series } of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i] as number;
        const le = this.bounds[i] as number;
        values.push({ value: cumulative, labels: { le }, sharedLabels: labels, metricName: `${this.name}_bucket` });
      }
      values.push({
        value: series.count,
        labels: { le: "+Inf" },
        sharedLabels: labels,
        metricName: `${this.name}_bucket`,
      });
      values.push({ value: series.sum, labels: {}, sharedLabels: labels, metricName: `${this.name}_sum` });
      values.push({ value: series.count, labels: {}, sharedLabels: labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Zeroes every series in place, so series already handed out keep recording. */
  reset(): void {
    for (const { series } of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

export class CounterSeries {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

export class BoundCounter<L extends string> extends BoundMetric<L, CounterSeries> {
  readonly type = "counter";

  protected create(): CounterSeries {
    return new CounterSeries();
  }

  async get() {
    const values: Sample[] = [];
    for (const { labels, series } of this.series.values()) values.push({ value: series.value, labels });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const { series } of this.series.values()) series.value = 0;
  }
}
