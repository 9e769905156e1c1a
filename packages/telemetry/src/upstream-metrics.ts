/** @module Metrics of the gateway's HTTP upstreams: attempts by target and outcome, and each target's health, breaker and load. */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { DEFAULT_BUCKETS } from "./metrics.js";

/** One target as the gateway reports it. */
export interface UpstreamTargetReading {
  readonly upstream: string;
  readonly target: string;
  readonly healthy: boolean;
  readonly breaker: "closed" | "open" | "half-open";
  readonly inFlight: number;
}

/** What the gateway reports about its upstreams; its `upstreamMetrics` option takes one. */
export interface UpstreamMetrics {
  attempted(upstream: string, target: string, outcome: string, seconds: number): void;
  watch(read: () => readonly UpstreamTargetReading[]): void;
}

const BREAKER_VALUE = { closed: 0, "half-open": 1, open: 2 } as const;

/**
 * Registers `flotilla_upstream_requests_total` (upstream, target, outcome: the answer's status code, or
 * `timeout` or `error`), `flotilla_upstream_request_duration_seconds` (upstream; to the answer's head),
 * and, read at each scrape, `flotilla_upstream_target_healthy` (1 or 0), `flotilla_upstream_circuit_state`
 * (0 closed, 1 half-open, 2 open) and `flotilla_upstream_in_flight`, each by upstream and target.
 */
export function upstreamMetrics(registry: Registry, buckets: readonly number[] = DEFAULT_BUCKETS): UpstreamMetrics {
  const registers = [registry];
  let read: () => readonly UpstreamTargetReading[] = () => [];
  const requests = new Counter({
    name: "flotilla_upstream_requests_total",
    help: "Attempts on upstream targets, by upstream, target and outcome (status code, timeout or error).",
    labelNames: ["upstream", "target", "outcome"] as const,
    registers,
  });
  const duration = new Histogram({
    name: "flotilla_upstream_request_duration_seconds",
    help: "Time from sending a request to an upstream target to the answer's head (or the failure), by upstream.",
    labelNames: ["upstream"] as const,
    buckets: [...buckets],
    registers,
  });
  const byTarget = ["upstream", "target"] as const;
  const gauge = (name: string, help: string, value: (r: UpstreamTargetReading) => number) =>
    new Gauge({
      name,
      help,
      labelNames: byTarget,
      registers,
      collect() {
        this.reset();
        for (const r of read()) this.set({ upstream: r.upstream, target: r.target }, value(r));
      },
    });
  gauge("flotilla_upstream_target_healthy", "1 while a target passes its health checks, else 0.", (r) =>
    r.healthy ? 1 : 0,
  );
  gauge(
    "flotilla_upstream_circuit_state",
    "A target's circuit breaker: 0 closed, 1 half-open, 2 open.",
    (r) => BREAKER_VALUE[r.breaker],
  );
  gauge(
    "flotilla_upstream_in_flight",
    "Requests sent to a target whose answer has not fully arrived.",
    (r) => r.inFlight,
  );
  return {
    attempted(upstream, target, outcome, seconds) {
      requests.labels(upstream, target, outcome).inc();
      duration.labels(upstream).observe(seconds);
    },
    watch(reader) {
      read = reader;
    },
  };
}
