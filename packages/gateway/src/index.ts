/** @module The HTTP API gateway: routes as data mapped to Flotilla actions, with composable policies. */

export type { AccessLogMode } from "./access-log.js";
export type { ApiKeyCacheOptions, ApiKeyLookup, AuthenticateOptions } from "./auth/index.js";
export { allowQueryToken, authenticate, authenticated, requireRole, requireTier } from "./auth/index.js";
export type {
  CacheInvalidation,
  CacheMetrics,
  CacheStatus,
  CacheVary,
  GatewayCacheOptions,
  RouteCacheSpec,
} from "./cache/index.js";
export { CACHE_DEFAULTS, onEvent } from "./cache/index.js";
export type {
  Composed,
  CompositeMetrics,
  CompositeRoute,
  CompositeSpec,
  Part,
  PartBuilder,
  PartOptions,
  PartOutcome,
  PartValues,
  UpstreamPartOptions,
} from "./compose/index.js";
export { CompositeCodes, composite, isComposite, PARTIAL_HEADER } from "./compose/index.js";
export { DASHBOARD_ADMIN, type GatewayDashboardOptions } from "./dashboard-mount.js";
export type { Gateway, GatewayOptions, ListenOptions } from "./gateway.js";
export { createGateway } from "./gateway.js";
export type { GeneratedProto, GrpcEndpoint, GrpcOptions, ProtoOptions } from "./grpc/index.js";
export {
  flotillaErrorOfGrpc,
  GrpcMetadataKeys,
  generateProto,
  grpcCodeOf,
  httpStatusOfGrpcCode,
  statusOfGrpcCode,
} from "./grpc/index.js";
export type { ErrorBody } from "./http-errors.js";
export { GatewayCodes, HTTP_STATUS, HTTP_STATUS_BY_CODE } from "./http-errors.js";
export type { GatewayLimits } from "./limits.js";
export { DEFAULT_LIMITS } from "./limits.js";
export type { LiveMessage } from "./live/live-hub.js";
export type { LiveMetrics, LiveOptions, LiveProtocol } from "./live/live-options.js";
export { LIVE_DEFAULTS, LiveCodes } from "./live/live-options.js";
export type { GatewayMetrics } from "./metrics-endpoint.js";
export type { Exchange, Policy } from "./policy.js";
export type {
  Decision,
  MemoryRateLimitStore,
  MemoryRateLimitStoreOptions,
  RateLimit,
  RateLimitOptions,
  RateLimitPolicy,
  RateLimitStats,
  RateLimitStore,
  RedisRateLimitStore,
  RedisRateLimitStoreOptions,
  TierName,
  TierTable,
} from "./rate-limit/index.js";
export {
  DEFAULT_TIERS,
  memoryRateLimitStore,
  RateLimitCodes,
  rateLimit,
  redisRateLimitStore,
} from "./rate-limit/index.js";
export type { HttpMethod, PathParams, RequestView, Route, RouteSpec, SuccessStatus } from "./route.js";
export { route } from "./route.js";
export type {
  ComparedAnswer,
  Deprecation,
  DeprecationSpec,
  Difference,
  MatchRule,
  ReportView,
  RulesOrigin,
  ShadowRule,
  Split,
  SplitRoute,
  SplitRouteSpec,
  SplitView,
  TrafficChange,
  TrafficGatewayOptions,
  TrafficOptions,
  TrafficRules,
  VersionSplit,
  VersionSplitSpec,
} from "./traffic/index.js";
export {
  bucketOf,
  CLIENT_ID_COOKIE,
  parseRules,
  splitRoute,
  TRAFFIC_ADMIN,
  TRAFFIC_CHANGED,
  TRAFFIC_PATH,
  VARIANT_HEADER,
  versionSplit,
} from "./traffic/index.js";
export type {
  HealthCheckOptions,
  ProxiedPath,
  ProxyMethod,
  ProxyRoute,
  ProxySpec,
  TargetSnapshot,
  UpstreamBreakerOptions,
  UpstreamBreakerState,
  UpstreamGatewayOptions,
  UpstreamMetrics,
  UpstreamOptions,
} from "./upstream/index.js";
export { proxy, UPSTREAM_DEFAULTS, upstreamEnvName, upstreamsFromEnv } from "./upstream/index.js";
