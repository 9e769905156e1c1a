/**
 * @module The dashboard's views after Topology, in the navigation's order: each factory reads what it
 * needs from the context (see dashboard-context.ts) and answers undefined when there is nothing to show.
 */
import type { Panel } from "@flotilla/dashboard";
import type { DashboardContext } from "./dashboard-context.js";
import { deadLettersPanel } from "./dead-letters-panel.js";
import { eventFlowPanel } from "./event-flow-panel.js";
import { fitnessPanel } from "./fitness-panel.js";
import { metricsPanel } from "./metrics-panel.js";
import { sagasPanel } from "./sagas-panel.js";
import { tracesPanel } from "./traces-panel.js";

type PanelFactory = (ctx: DashboardContext) => Panel | undefined;

const FACTORIES: readonly PanelFactory[] = [
  // One line per view, each factory in its own module of this folder; Topology comes first (the mount's).
  tracesPanel,
  eventFlowPanel,
  deadLettersPanel,
  sagasPanel,
  metricsPanel,
  fitnessPanel,
];

export function dashboardPanels(ctx: DashboardContext): Panel[] {
  return FACTORIES.map((make) => make(ctx)).filter((p): p is Panel => p !== undefined);
}
