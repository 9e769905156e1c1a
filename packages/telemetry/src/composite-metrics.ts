/** @module Metrics of the gateway's composite routes: each part's outcome and time, in prom-client. */
import { Counter, Histogram, type Registry } from "prom-client";
import { DEFAULT_BUCKETS } from "./metrics.js";

/** What the gateway reports about composite routes' parts; its `compositeMetrics` option takes one. */
export interface CompositeMetrics {
  part(route: string, part: string, outcome: string, seconds: number): void;
}

/**
 * Registers `flotilla_composite_parts_total` (route template, part, outcome: `ok`, `skipped`, `timeout`,
 * `error`, `dependency_missing`) and `flotilla_composite_part_duration_seconds` (route, part).
 */
export function compositeMetrics(registry: Registry, buckets: readonly number[] = DEFAULT_BUCKETS): CompositeMetrics {
  const registers = [registry];
  const parts = new Counter({
    name: "flotilla_composite_parts_total",
    help: "Parts of composite routes' requests, by route template, part and outcome.",
    labelNames: ["route", "part", "outcome"] as const,
    registers,
  });
  const duration = new Histogram({
    name: "flotilla_composite_part_duration_seconds",
    help: "Time a part of a composite route took, from its start (after the part it waits for) to its value or failure.",
    labelNames: ["route", "part"] as const,
    buckets: [...buckets],
    registers,
  });
  return {
    part(route, part, outcome, seconds) {
      parts.labels(route, part, outcome).inc();
      duration.labels(route, part).observe(seconds);
    },
  };
}
