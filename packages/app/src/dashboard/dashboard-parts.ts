/**
 * @module What every place the dashboard runs opens the same way (runApp's gateway, `flotilla dashboard`):
 * the transport's events, the audit log, the panels made from one context, and the Topology view's
 * observed calls and events.
 */
import type { ObservedReader, Panel } from "@flotilla/dashboard";
import { type AppEvents, openAppEvents } from "../app-events.js";
import { openAuditLog } from "./audit-log.js";
import type { DashboardContext } from "./dashboard-context.js";
import { dashboardPanels } from "./dashboard-panels.js";
import { observedReader } from "./observed-graph.js";
import { declaredPubSub } from "./observed-pubsub.js";

export interface DashboardParts {
  readonly panels: Panel[];
  /** The Topology view's observed calls and events, when spans are kept. */
  readonly observed: ObservedReader | undefined;
  /** Closes the events and the audit log. */
  close(): Promise<void>;
}

/** The context less what is opened here: the events (from `transportUrl`) and the audit log (in `dataDir`). */
export type DashboardBase = Omit<DashboardContext, "events" | "audit">;

export async function openDashboardParts(base: DashboardBase): Promise<DashboardParts> {
  let events: AppEvents | undefined;
  try {
    events = await openAppEvents(base.transportUrl, base.dataDir);
  } catch (err) {
    // A transport that keeps no events (memory://?journal=off), or a broker not reached: the event views
    // have nothing to read.
    base.log.warn({ err }, "dashboard: the transport's events cannot be read; dead letters are not shown");
  }
  const audit = openAuditLog(base.dataDir, { log: base.log });
  const ctx: DashboardContext = { ...base, events, audit };
  return {
    panels: dashboardPanels(ctx),
    observed:
      ctx.traces === undefined
        ? undefined
        : observedReader({ traces: ctx.traces, declared: declaredPubSub(ctx.app), tracer: ctx.tracer }),
    close: async () => {
      await events?.close();
      audit.close();
    },
  };
}
