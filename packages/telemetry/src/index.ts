/** @module Flotilla telemetry: OpenTelemetry spans for every hop and Prometheus RED metrics, as middleware. */

export * as attributes from "./attributes.js";
export { OTHER_CODE } from "./error-codes.js";
export type { CollectedGaugeOptions, GaugeReading } from "./gauges.js";
export { collectedGauge } from "./gauges.js";
export type { HttpMetrics } from "./http-metrics.js";
export { httpMetrics, UNMATCHED_ROUTE } from "./http-metrics.js";
export type { MetricsMiddleware, MetricsOptions } from "./metrics.js";
export { DEFAULT_BUCKETS, metrics, renderMetrics } from "./metrics.js";
export { fromSpanContext, SpanTrace, toSpanContext } from "./trace-bridge.js";
export type { TracingOptions } from "./tracing.js";
export { INSTRUMENTATION_SCOPE, tracing } from "./tracing.js";
