/** @module @flotilla/dashboard: the web dashboard the gateway serves at `/_flotilla` (see docs/dashboard.md). */
export { DASHBOARD_PATH, type DashboardOptions, dashboardRoutes } from "./dashboard-routes.js";
export { EventFeed, type FeedSource } from "./event-feed.js";
export { CONTENT_SECURITY_POLICY } from "./static-assets.js";
export {
  type InstanceView,
  readTopology,
  type ServiceHealth,
  type ServiceView,
  type Topology,
  type TopologySource,
} from "./topology.js";
