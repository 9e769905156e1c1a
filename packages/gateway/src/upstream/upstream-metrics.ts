/** @module What the gateway reports about its upstreams; `upstreamMetrics()` of @flotilla/telemetry makes one. */
import type { TargetSnapshot } from "./upstream.js";

export interface UpstreamMetrics {
  /**
   * One attempt on one target ended: `outcome` is the answer's status code (`"200"`, `"503"`), or
   * `"timeout"` or `"error"` when none came; `seconds` runs to the answer's head (or the failure).
   */
  attempted(upstream: string, target: string, outcome: string, seconds: number): void;
  /** Hands over a reader of every target's health and breaker state, read when metrics are collected. */
  watch(read: () => readonly TargetSnapshot[]): void;
}
