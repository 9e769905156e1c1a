/**
 * @module The Metrics view's memory: a ring of points per series (RED per route, action and handler; the
 * outbox backlog and the instances per service), built from successive readings of every process. Rates
 * are deltas between two readings of the same process, summed over processes, so a restarted process (its
 * counters back at zero) or a new one never counts twice. Bounded: at most `maxSeries` series of
 * `historyMs / sampleMs` points each.
 */
import { quantile, type RedTotals, type SourceReading } from "./metrics-readings.js";

/** A fixed number of points, the oldest overwritten first. */
export class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`a ring needs a capacity of 1 or more, not ${capacity}`);
  }

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): T[] {
    return this.items.length < this.capacity
      ? [...this.items]
      : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }

  get size(): number {
    return this.items.length;
  }
}

/** A RED point: epoch ms, requests in the interval, per second, error ratios (null without requests), p50/p95 seconds. */
export type RedPoint = [
  at: number,
  requests: number,
  rate: number,
  errorRatio: number | null,
  clientErrorRatio: number | null,
  p50: number | null,
  p95: number | null,
];
/** A gauge point: epoch ms and value. */
export type GaugePoint = [at: number, value: number];

/** One RED series as the API answers it: the latest totals (summed over processes) and its points as columns. */
export interface RedSeriesView {
  readonly key: string;
  readonly total: number;
  readonly errors: number;
  readonly clientErrors: number;
  readonly points: RedPoint[];
}

export interface GaugeSeriesView {
  readonly key: string;
  readonly value: number;
  readonly points: GaugePoint[];
}

export interface MetricsSnapshot {
  /** Epoch ms of the latest reading; null before the first. */
  readonly sampledAt: number | null;
  readonly sampleMs: number;
  readonly historyMs: number;
  readonly maxSeries: number;
  /** Series not kept because the bound was reached (0 in a healthy system). */
  readonly droppedSeries: number;
  readonly routes: RedSeriesView[];
  readonly actions: RedSeriesView[];
  readonly handlers: RedSeriesView[];
  readonly outbox: GaugeSeriesView[];
  readonly instances: GaugeSeriesView[];
}

export interface MetricsHistoryOptions {
  /** The sampler's period (5,000 ms). */
  readonly sampleMs?: number;
  /** How far back points are kept (15 minutes). */
  readonly historyMs?: number;
  /** The most series kept, all kinds together (300). */
  readonly maxSeries?: number;
}

interface RedSeries {
  totals: { count: number; errors: number; clientErrors: number };
  readonly ring: Ring<RedPoint>;
}

interface GaugeSeries {
  value: number;
  readonly ring: Ring<GaugePoint>;
}

export class MetricsHistory {
  readonly sampleMs: number;
  readonly historyMs: number;
  readonly maxSeries: number;
  private readonly red = new Map<string, RedSeries>();
  private readonly gauges = new Map<string, GaugeSeries>();
  private readonly dropped = new Set<string>();
  private previous = new Map<string, SourceReading>();
  private lastAt: number | null = null;

  constructor(options: MetricsHistoryOptions = {}) {
    this.sampleMs = options.sampleMs ?? 5_000;
    this.historyMs = options.historyMs ?? 15 * 60_000;
    this.maxSeries = options.maxSeries ?? 300;
  }

  /** Epoch ms of the latest reading, or null. */
  get sampledAt(): number | null {
    return this.lastAt;
  }

  /**
   * Adds a reading of every process (by a stable source id) and the instances per service. After a gap of
   * more than three periods (nobody watched) the reading only sets the baseline: a rate over the gap would
   * draw a line across time nobody sampled.
   */
  record(at: number, readings: ReadonlyMap<string, SourceReading>, instances: ReadonlyMap<string, number>): void {
    const continuous = this.lastAt !== null && at - this.lastAt <= 3 * this.sampleMs && at > this.lastAt;
    const seconds = this.lastAt === null ? 0 : (at - this.lastAt) / 1_000;
    const deltas = new Map<string, RedTotals>();
    const totals = new Map<string, { count: number; errors: number; clientErrors: number }>();
    for (const [source, reading] of readings) {
      const before = this.previous.get(source);
      for (const [id, now] of reading.red) {
        const sum = totals.get(id) ?? { count: 0, errors: 0, clientErrors: 0 };
        sum.count += now.count;
        sum.errors += now.errors;
        sum.clientErrors += now.clientErrors;
        totals.set(id, sum);
        // A process seen for the first time is a baseline: what it counted before is not in this interval.
        if (!continuous || before === undefined) continue;
        addDelta(deltas, id, now, before.red.get(id));
      }
    }
    this.previous = new Map(readings);
    this.lastAt = at;
    for (const [id, sum] of totals) {
      const series = this.redSeries(id);
      if (series === undefined) continue;
      series.totals = sum;
      if (!continuous) continue;
      const d = deltas.get(id) ?? { count: 0, errors: 0, clientErrors: 0, buckets: new Map() };
      series.ring.push([
        at,
        d.count,
        d.count / seconds,
        d.count === 0 ? null : d.errors / d.count,
        d.count === 0 ? null : d.clientErrors / d.count,
        quantile(0.5, d.buckets),
        quantile(0.95, d.buckets),
      ]);
    }
    const outbox = new Map<string, number>();
    for (const reading of readings.values()) {
      for (const [service, n] of reading.outbox) outbox.set(service, (outbox.get(service) ?? 0) + n);
    }
    for (const [service, n] of outbox) this.gauge(`outbox ${service}`, at, n);
    for (const [service, n] of instances) this.gauge(`instances ${service}`, at, n);
  }

  /**
   * Everything kept, points newer than `historyMs` before the latest reading; with `lastPoints`, only that
   * many of each series (the event stream sends the newest, the client keeps the rest).
   */
  snapshot(lastPoints?: number): MetricsSnapshot {
    const since = (this.lastAt ?? 0) - this.historyMs;
    const recent = <P extends [number, ...unknown[]]>(ring: Ring<P>): P[] => {
      const points = ring.toArray().filter((p) => p[0] > since);
      return lastPoints === undefined ? points : points.slice(-lastPoints);
    };
    const red = (kind: string): RedSeriesView[] =>
      [...this.red]
        .filter(([id]) => id.startsWith(`${kind} `))
        .map(([id, s]) => ({
          key: id.slice(kind.length + 1),
          total: s.totals.count,
          errors: s.totals.errors,
          clientErrors: s.totals.clientErrors,
          points: recent(s.ring),
        }))
        .sort((a, b) => a.key.localeCompare(b.key));
    const gauge = (kind: string): GaugeSeriesView[] =>
      [...this.gauges]
        .filter(([id]) => id.startsWith(`${kind} `))
        .map(([id, s]) => ({ key: id.slice(kind.length + 1), value: s.value, points: recent(s.ring) }))
        .sort((a, b) => a.key.localeCompare(b.key));
    return {
      sampledAt: this.lastAt,
      sampleMs: this.sampleMs,
      historyMs: this.historyMs,
      maxSeries: this.maxSeries,
      droppedSeries: this.dropped.size,
      routes: red("route"),
      actions: red("action"),
      handlers: red("handler"),
      outbox: gauge("outbox"),
      instances: gauge("instances"),
    };
  }

  private get capacity(): number {
    return Math.max(1, Math.ceil(this.historyMs / this.sampleMs));
  }

  private admits(id: string): boolean {
    if (this.red.size + this.gauges.size < this.maxSeries) return true;
    // The set of dropped ids is bounded too: past the bound only their number matters.
    if (this.dropped.size < this.maxSeries) this.dropped.add(id);
    return false;
  }

  private redSeries(id: string): RedSeries | undefined {
    let series = this.red.get(id);
    if (series === undefined && this.admits(id)) {
      series = { totals: { count: 0, errors: 0, clientErrors: 0 }, ring: new Ring(this.capacity) };
      this.red.set(id, series);
    }
    return series;
  }

  private gauge(id: string, at: number, value: number): void {
    let series = this.gauges.get(id);
    if (series === undefined) {
      if (!this.admits(id)) return;
      series = { value, ring: new Ring(this.capacity) };
      this.gauges.set(id, series);
    }
    series.value = value;
    series.ring.push([at, value]);
  }
}

/** Adds one process's growth of a series since its previous reading; a value that went down restarted from zero. */
function addDelta(deltas: Map<string, RedTotals>, id: string, now: RedTotals, before: RedTotals | undefined): void {
  const grown = (a: number, b: number | undefined) => (b === undefined || a < b ? a : a - b);
  // A counter below its previous value means the process restarted: all of it is new.
  const restarted = before !== undefined && now.count < before.count;
  const base = restarted ? undefined : before;
  let d = deltas.get(id);
  if (d === undefined) {
    d = { count: 0, errors: 0, clientErrors: 0, buckets: new Map() };
    deltas.set(id, d);
  }
  d.count += grown(now.count, base?.count);
  d.errors += grown(now.errors, base?.errors);
  d.clientErrors += grown(now.clientErrors, base?.clientErrors);
  for (const [le, n] of now.buckets) d.buckets.set(le, (d.buckets.get(le) ?? 0) + grown(n, base?.buckets.get(le)));
}
