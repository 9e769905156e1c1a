/** @module What the gateway reports about composite routes' parts; `compositeMetrics()` of @flotilla/telemetry makes one. */

/**
 * How a part ended: `ok`; `skipped` (its input said there was nothing to fetch); `timeout` and `error`;
 * `dependency_missing` (the part it waits for has no value, so it was never called).
 */
export type PartOutcome = "ok" | "skipped" | "timeout" | "error" | "dependency_missing";

export interface CompositeMetrics {
  /** One part of one request to a composite route ended; `route` is the path template. */
  part(route: string, part: string, outcome: PartOutcome, seconds: number): void;
}
