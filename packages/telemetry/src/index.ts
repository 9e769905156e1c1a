/** @module Flotilla telemetry: OpenTelemetry spans for every hop and Prometheus RED metrics, as middleware. */

export * as attributes from "./attributes.js";
export type { CacheMetrics } from "./cache-metrics.js";
export { cacheMetrics } from "./cache-metrics.js";
export type { CompositeMetrics } from "./composite-metrics.js";
export { compositeMetrics } from "./composite-metrics.js";
export { OTHER_CODE } from "./error-codes.js";
export type { CollectedGaugeOptions, GaugeReading } from "./gauges.js";
export { collectedCounter, collectedGauge } from "./gauges.js";
export type { HttpMetrics } from "./http-metrics.js";
export { httpMetrics, UNMATCHED_ROUTE } from "./http-metrics.js";
export type { LiveMetrics } from "./live-metrics.js";
export { liveMetrics } from "./live-metrics.js";
export type { MetricsMiddleware, MetricsOptions } from "./metrics.js";
export { DEFAULT_BUCKETS, metrics, renderMetrics } from "./metrics.js";
export type { ExportStats } from "./recorder/export-queue.js";
export { LightTracer, type LightTracerOptions } from "./recorder/light-tracer.js";
export type { SpanDefaults, SpanSink } from "./recorder/recording-span.js";
export { samplerFromEnv } from "./recorder/sampler-from-env.js";
export {
  type TraceRecorder,
  type TraceRecorderOptions,
  type TraceRecorderStats,
  traceRecorder,
} from "./recorder/trace-recorder.js";
export { tlsReloadMetrics } from "./tls-metrics.js";
export { fromSpanContext, SpanTrace, toSpanContext } from "./trace-bridge.js";
export { traceMetrics } from "./trace-metrics.js";
export { criticalPath } from "./traces/critical-path.js";
export type { MemoryTraceStoreOptions } from "./traces/memory-trace-store.js";
export { memoryTraceStore } from "./traces/memory-trace-store.js";
export type { DecodeOtlpOptions } from "./traces/otlp-json.js";
export { decodeOtlpJson, MAX_OTLP_JSON_BYTES } from "./traces/otlp-json.js";
export { type OtlpAnswer, type OtlpExportRequest, receiveOtlp } from "./traces/otlp-receiver.js";
export type {
  AttributeValue,
  SpanEventRecord,
  SpanLinkRecord,
  SpanRecord,
} from "./traces/span-record.js";
export { SpanKinds, SpanStatuses } from "./traces/span-record.js";
export type { SqliteTraceStore, SqliteTraceStoreOptions } from "./traces/sqlite-trace-store.js";
export { sqliteTraceStore, TRACE_FILE } from "./traces/sqlite-trace-store.js";
export type { TailDecisionStats } from "./traces/tail-decision.js";
export {
  isTraceId,
  MAX_TRACES_LIMIT,
  traceQueryFromParams,
  traceQueryToParams,
} from "./traces/trace-query-params.js";
export {
  MAX_SPAN_READ,
  type SpanQuery,
  spanLimit,
  type TraceQuery,
  type TraceStore,
  type TraceSummary,
} from "./traces/trace-store.js";
export type { CountingTraceStore, TraceStoreStats } from "./traces/trace-store-stats.js";
export type { WaterfallOptions } from "./traces/waterfall.js";
export { formatDuration, renderWaterfall } from "./traces/waterfall.js";
export type { TracingOptions } from "./tracing.js";
export { INSTRUMENTATION_SCOPE, tracing } from "./tracing.js";
export type { TrafficMetrics } from "./traffic-metrics.js";
export { trafficMetrics } from "./traffic-metrics.js";
export type { UpstreamMetrics, UpstreamTargetReading } from "./upstream-metrics.js";
export { upstreamMetrics } from "./upstream-metrics.js";
