/** @module Flotilla apps: define one (services and gateway routes), run it embedded or split, reach its events. */

export type { FlotillaApp, GatewayEnvironment } from "./app.js";
export { defineApp } from "./app.js";
export type { AppEvents } from "./app-events.js";
export { openAppEvents } from "./app-events.js";
export { appProto, appProtoPackage } from "./app-proto.js";
export { appTransports } from "./app-transports.js";
export type { SupervisorLink } from "./dashboard/dashboard-context.js";
export type { Finding, FindingKind } from "./dashboard/fitness-findings.js";
export type { FitnessReport } from "./dashboard/fitness-panel.js";
export { DASHBOARD_FILE, type DashboardFile, readDashboardFile } from "./dashboard/standalone-access.js";
export {
  COLLECTOR_PATH,
  DASHBOARD_PORT,
  type ServeDashboardOptions,
  type ServedDashboard,
  serveDashboard,
} from "./dashboard/standalone-dashboard.js";
export { EDGE_KEYS_ENV, edgeKeysPath, openEdgeKeys } from "./edge-keys.js";
export type { OpsServer, OpsServerOptions } from "./ops-server.js";
export { startOpsServer } from "./ops-server.js";
export type { RunningApp, RunOptions } from "./run-app.js";
export { runApp } from "./run-app.js";
export { stopOnSignals } from "./stop-on-signals.js";
export type { DeploymentUnit, Layout, ResolvedUnit, UnitResources, UnitScaling } from "./units.js";
export { DEFAULT_RESOURCES, DEFAULT_SCALING, deploymentUnit, deploymentUnits, LAYOUTS } from "./units.js";
