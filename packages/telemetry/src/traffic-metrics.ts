/** @module Metrics of the gateway's traffic splits: requests per variant and shadow comparisons, in prom-client. */
import { Counter, type Registry } from "prom-client";

/** What the gateway's traffic splits report; the gateway's `trafficMetrics` option takes one. */
export interface TrafficMetrics {
  /** A request (or a call to a version-split service) was given to `variant`. */
  chosen(split: string, variant: string): void;
  /** A shadow call ended: `equal`, `different`, `shadow_failed`, or `dropped` (not made: too many running). */
  compared(split: string, outcome: string): void;
}

/**
 * Registers `flotilla_gateway_split_requests_total` (split, variant) and
 * `flotilla_gateway_shadow_comparisons_total` (split, outcome).
 */
export function trafficMetrics(registry: Registry): TrafficMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: "flotilla_gateway_split_requests_total",
    help: "Requests each variant of a traffic split was chosen for, by split and variant.",
    labelNames: ["split", "variant"] as const,
    registers,
  });
  const comparisons = new Counter({
    name: "flotilla_gateway_shadow_comparisons_total",
    help: "Shadow calls of route splits by outcome (equal, different, shadow_failed, dropped), by split.",
    labelNames: ["split", "outcome"] as const,
    registers,
  });
  return {
    chosen: (split, variant) => requests.labels(split, variant).inc(),
    compared: (split, outcome) => comparisons.labels(split, outcome).inc(),
  };
}
