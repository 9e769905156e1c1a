/** @module runApp's dashboard: the context its panels read in this process, opened with the gateway and closed after it. */
import type { Host, Logger, Registry } from "@flotilla/core";
import type { ObservedReader, Panel } from "@flotilla/dashboard";
import type { TraceStore } from "@flotilla/telemetry";
import type { Tracer } from "@opentelemetry/api";
import type { FlotillaApp } from "../app.js";
import { type AppEvents, openAppEvents } from "../app-events.js";
import { openAuditLog } from "./audit-log.js";
import type { DashboardContext, SupervisorLink } from "./dashboard-context.js";
import { dashboardPanels } from "./dashboard-panels.js";
import { observedReader } from "./observed-graph.js";
import { declaredPubSub } from "./observed-pubsub.js";

export interface AppDashboard {
  readonly panels: Panel[];
  /** The Topology view's observed calls and events, when spans are kept. */
  readonly observed: ObservedReader | undefined;
  close(): Promise<void>;
}

export interface AppDashboardOptions {
  readonly app: FlotillaApp;
  readonly host: Host;
  readonly registry: Registry | undefined;
  readonly transportUrl: string;
  readonly traces: TraceStore | undefined;
  readonly metrics: { render(): Promise<string> };
  readonly dataDir: string;
  readonly tracer: Tracer | undefined;
  readonly log: Logger;
}

/**
 * The panels of the dashboard an app's gateway serves. A supervisor running this process
 * (`flotilla up`) is reached through `FLOTILLA_SUPERVISOR_URL` and `FLOTILLA_SUPERVISOR_TOKEN`.
 */
export async function openAppDashboard(options: AppDashboardOptions): Promise<AppDashboard> {
  let events: AppEvents | undefined;
  try {
    events = await openAppEvents(options.transportUrl, options.dataDir);
  } catch (err) {
    // A transport that keeps no events (memory://?journal=off): the event views have nothing to read.
    options.log.warn({ err }, "dashboard: the transport's events cannot be read; dead letters are not shown");
  }
  const audit = openAuditLog(options.dataDir, { log: options.log });
  const ctx: DashboardContext = {
    ...options,
    events,
    supervisor: supervisorFromEnv(process.env),
    audit,
    transport: options.host.transport,
  };
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

function supervisorFromEnv(env: NodeJS.ProcessEnv): SupervisorLink | undefined {
  const url = env.FLOTILLA_SUPERVISOR_URL?.trim();
  const token = env.FLOTILLA_SUPERVISOR_TOKEN?.trim();
  return url && token ? { url, token } : undefined;
}
