/** @module @flotilla/dashboard: the web dashboard the gateway serves at `/_flotilla` (see docs/dashboard.md). */
export { DASHBOARD_PATH, type DashboardOptions, dashboardRoutes } from "./dashboard-routes.js";
export { FeedHub } from "./feed-hub.js";
export type {
  DashboardCaller,
  Panel,
  PanelContext,
  PanelRequest,
  PanelRoute,
  PolledTopic,
  PushTopic,
  Topic,
} from "./panel.js";
export { CONTENT_SECURITY_POLICY } from "./static-assets.js";
export {
  type InstanceView,
  readTopology,
  type ServiceHealth,
  type ServiceView,
  type Topology,
  type TopologyHost,
  type TopologySource,
} from "./topology.js";
export type {
  CallEdge,
  EventEdge,
  ObservedConsumer,
  ObservedGraph,
  ObservedReader,
  PubSubEntry,
  PubSubMismatch,
  PubSubMismatchKind,
} from "./topology-observed.js";
export { type TopologyPanelOptions, topologyPanel } from "./topology-panel.js";
