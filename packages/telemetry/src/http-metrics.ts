/** @module RED metrics of an HTTP edge: requests by method, route template and status code, and those in flight. */
import { Gauge, type Registry } from "prom-client";
import { BoundCounter, BoundHistogram, type CounterSeries, type HistogramSeries } from "./bound-metrics.js";
import { DEFAULT_BUCKETS } from "./metrics.js";

/** The `route` of requests no route matched: one series, whatever paths hostile clients make up. */
export const UNMATCHED_ROUTE = "unmatched";

/** What an HTTP server reports; the gateway's `metrics` option takes one. */
export interface HttpMetrics {
  /** A request arrived. */
  started(): void;
  /** Its answer is out (or its client left): `route` is the matched template, undefined when none matched. */
  finished(method: string, route: string | undefined, status: number, seconds: number): void;
  /** The whole registry in Prometheus text, for the edge's own `/metrics`. */
  render(): Promise<string>;
  readonly contentType: string;
}

interface Pair {
  readonly count: CounterSeries;
  readonly duration: HistogramSeries;
}

/**
 * Registers `flotilla_http_requests_total`, `flotilla_http_request_duration_seconds` (method, route,
 * code) and `flotilla_http_requests_in_flight` in `registry`. `code` is the exact status: an edge
 * answers a small fixed set of them, and 401, 403 and 429 call for different reactions; a class is
 * one regex away (`code=~"5.."`). Series are bound once per method, route and code.
 */
export function httpMetrics(registry: Registry, buckets: readonly number[] = DEFAULT_BUCKETS): HttpMetrics {
  const registers = [registry];
  const labelNames = ["method", "route", "code"] as const;
  const requests = new BoundCounter({
    name: "flotilla_http_requests_total",
    help: "HTTP requests answered (499: the client left first), by method, route template and status code.",
    labelNames,
    registers,
  });
  const durations = new BoundHistogram({
    name: "flotilla_http_request_duration_seconds",
    help: "Time from a request's arrival to the end of its answer, by method, route template and status code.",
    labelNames,
    buckets,
    registers,
  });
  let inFlight = 0;
  new Gauge({
    name: "flotilla_http_requests_in_flight",
    help: "HTTP requests this process has received and not answered yet.",
    registers,
    collect() {
      this.set(inFlight);
    },
  });
  // route → method → status → series: three map reads per request once the series exists.
  const series = new Map<string, Map<string, Map<number, Pair>>>();
  const pairOf = (method: string, route: string, status: number): Pair => {
    let byMethod = series.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      series.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let pair = byStatus.get(status);
    if (pair === undefined) {
      const code = String(status);
      pair = { count: requests.labels(method, route, code), duration: durations.labels(method, route, code) };
      byStatus.set(status, pair);
    }
    return pair;
  };
  return {
    started() {
      inFlight++;
    },
    finished(method, route, status, seconds) {
      inFlight--;
      // Node parses only the methods it knows, so even unmatched requests bring a bounded set.
      const pair = pairOf(method, route ?? UNMATCHED_ROUTE, status);
      pair.count.inc();
      pair.duration.observe(seconds);
    },
    render: () => registry.metrics(),
    get contentType() {
      return registry.contentType;
    },
  };
}
