/** @module HTTP upstreams: proxy routes to services that are not Flotilla services, balanced, health-checked and guarded. */
export type { InstalledUpstreams, UpstreamGatewayOptions } from "./install-upstreams.js";
export { installUpstreams } from "./install-upstreams.js";
export type { ProxiedPath, ProxyMethod, ProxyRoute, ProxySpec } from "./proxy-route.js";
export { proxy } from "./proxy-route.js";
export type { TargetSnapshot } from "./upstream.js";
export type { UpstreamMetrics } from "./upstream-metrics.js";
export type { HealthCheckOptions, UpstreamBreakerOptions, UpstreamOptions } from "./upstream-options.js";
export { UPSTREAM_DEFAULTS, upstreamEnvName, upstreamsFromEnv } from "./upstream-options.js";
export type { BreakerState as UpstreamBreakerState } from "./upstream-target.js";
