/**
 * @module The Metrics view's sampler: reads the Prometheus text of this process and, in a split system, of
 * every instance the registry lists with an ops address, and adds the readings to the history. It samples
 * only when asked (the `metrics` topic's timer, which runs while someone watches, or an API read), at most
 * once per half period however many ask.
 */
import { hostname } from "node:os";
import type { InstanceInfo, Logger, Registry } from "@flotilla/core";
import { SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { MetricsHistory, type MetricsHistoryOptions, type MetricsSnapshot } from "./metrics-history.js";
import { parsePrometheusText } from "./metrics-prometheus.js";
import { readingOf, type SourceReading } from "./metrics-readings.js";

/** How long one instance's `/metrics` may take before that tick goes without it. */
const SCRAPE_TIMEOUT_MS = 2_000;

/** One process read at the latest tick: `this process`, or an instance's ops address. */
export interface SourceStatus {
  readonly source: string;
  /** The services it runs, as the registry says (this process: its host's). */
  readonly services: readonly string[];
  /** Absent when it was read; else why not. */
  readonly error?: string;
}

export interface MetricsView extends MetricsSnapshot {
  readonly sources: readonly SourceStatus[];
}

export interface MetricsSamplerOptions extends MetricsHistoryOptions {
  /** This process's metrics, when it runs services or a gateway. */
  readonly local: { render(): Promise<string> } | undefined;
  /** The services this process runs. */
  readonly localServices: readonly string[];
  /** Every service of the system (to list the registry's instances). */
  readonly services: readonly string[];
  readonly registry: Registry | undefined;
  readonly tracer: Tracer | undefined;
  readonly log: Logger;
  readonly now?: () => number;
}

export const THIS_PROCESS = "this process";

export class MetricsSampler {
  private readonly history: MetricsHistory;
  private readonly now: () => number;
  private sources: SourceStatus[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly options: MetricsSamplerOptions) {
    this.history = new MetricsHistory(options);
    this.now = options.now ?? Date.now;
  }

  /** Takes a reading unless the latest is less than half a period old (or one is under way: it waits for that). */
  async sampleIfStale(): Promise<void> {
    if (this.running !== undefined) return this.running;
    const last = this.history.sampledAt;
    if (last !== null && this.now() - last < this.history.sampleMs / 2) return;
    this.running = this.traced().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** The history (see MetricsHistory.snapshot) and how each process's latest read went. */
  view(lastPoints?: number): MetricsView {
    return { ...this.history.snapshot(lastPoints), sources: this.sources };
  }

  private async traced(): Promise<void> {
    const { tracer } = this.options;
    if (tracer === undefined) return this.sample();
    return tracer.startActiveSpan("dashboard.metrics.sample", async (span) => {
      try {
        await this.sample();
        span.setAttribute("flotilla.dashboard.sources", this.sources.length);
        span.setAttribute("flotilla.dashboard.sources_failed", this.sources.filter((s) => s.error).length);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  private async sample(): Promise<void> {
    const { local, localServices, registry, log } = this.options;
    const targets: { source: string; services: string[]; read: () => Promise<string> }[] = [];
    if (local !== undefined)
      targets.push({ source: THIS_PROCESS, services: [...localServices], read: () => local.render() });
    for (const [endpoint, services] of this.remoteEndpoints()) {
      targets.push({ source: endpoint, services, read: () => scrape(endpoint) });
    }
    const readings = new Map<string, SourceReading>();
    const statuses = await Promise.all(
      targets.map(async ({ source, services, read }): Promise<SourceStatus> => {
        try {
          readings.set(source, readingOf(parsePrometheusText(await read())));
          return { source, services };
        } catch (err) {
          log.warn({ err, source }, "dashboard: an instance's metrics could not be read");
          return { source, services, error: (err as Error).message };
        }
      }),
    );
    this.sources = statuses;
    this.history.record(this.now(), readings, this.instanceCounts(registry));
  }

  /** Each ops address once (a process running several services registers each), without this process's own. */
  private remoteEndpoints(): Map<string, string[]> {
    const { registry, services } = this.options;
    const endpoints = new Map<string, string[]>();
    if (registry === undefined) return endpoints;
    const machine = hostname();
    for (const service of services) {
      for (const info of registry.instances(service)) {
        if (info.endpoint === undefined || isThisProcess(info, machine)) continue;
        const listed = endpoints.get(info.endpoint) ?? [];
        listed.push(service);
        endpoints.set(info.endpoint, listed);
      }
    }
    return endpoints;
  }

  private instanceCounts(registry: Registry | undefined): Map<string, number> {
    const { services, localServices } = this.options;
    if (registry === undefined) return new Map(localServices.map((s) => [s, 1]));
    return new Map(services.map((s) => [s, registry.instances(s).length]));
  }
}

function isThisProcess(info: InstanceInfo, machine: string): boolean {
  return info.pid === process.pid && info.host === machine;
}

async function scrape(endpoint: string): Promise<string> {
  const res = await fetch(new URL("/metrics", endpoint), {
    headers: { accept: "text/plain" },
    signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`GET ${endpoint}/metrics answered ${res.status}`);
  return res.text();
}
