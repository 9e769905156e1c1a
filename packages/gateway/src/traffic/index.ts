/** @module Traffic splits: versions, canaries, route splits with shadow comparisons, and deprecation (docs/traffic.md). */
export type { ComparedAnswer, Difference, ReportView } from "./comparison-report.js";
export type { Deprecation, DeprecationSpec } from "./deprecation.js";
export type { TrafficGatewayOptions, TrafficOptions } from "./install-traffic.js";
export type { Split, SplitRoute, SplitRouteSpec, VersionSplit, VersionSplitSpec } from "./splits.js";
export { splitRoute, versionSplit } from "./splits.js";
export { TRAFFIC_ADMIN, TRAFFIC_PATH } from "./traffic-admin.js";
export { CLIENT_ID_COOKIE, VARIANT_HEADER } from "./traffic-engine.js";
export type { MatchRule, ShadowRule, TrafficRules } from "./traffic-rules.js";
export { parseRules } from "./traffic-rules.js";
export type { RulesOrigin, SplitView, TrafficChange } from "./traffic-state.js";
export { TRAFFIC_CHANGED } from "./traffic-sync.js";
export { bucketOf } from "./variant-choice.js";
