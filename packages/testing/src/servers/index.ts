/** @module Real-server launchers (NATS, PostgreSQL, Prometheus) for Flotilla's integration tests. */

export { freePort } from "./free-port.js";
export {
  type NatsServerHandle,
  type NatsServerOptions,
  resolveNatsServerBinary,
  startNatsServer,
} from "./nats-server.js";
export { type PostgresHandle, type PostgresOptions, resolvePgBinDir, startPostgres } from "./postgres-server.js";
export {
  checkMetricsWithPromtool,
  type PrometheusHandle,
  type PrometheusOptions,
  type PrometheusSample,
  type PrometheusTarget,
  type PromtoolVerdict,
  resolvePrometheusBinary,
  resolvePromtool,
  runsWith,
  startPrometheus,
} from "./prometheus-server.js";
