/** @module runApp's dashboard: the context its panels read in this process, opened with the gateway and closed after it. */
import type { Host, Logger, Registry } from "@flotilla/core";

import type { TraceStore } from "@flotilla/telemetry";
import type { Tracer } from "@opentelemetry/api";
import type { FlotillaApp } from "../app.js";
import type { SupervisorLink } from "./dashboard-context.js";
import { type DashboardParts, openDashboardParts } from "./dashboard-parts.js";

export type AppDashboard = DashboardParts;

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
export function openAppDashboard(options: AppDashboardOptions): Promise<AppDashboard> {
  return openDashboardParts({
    ...options,
    supervisor: supervisorFromEnv(process.env),
    transport: options.host.transport,
  });
}

function supervisorFromEnv(env: NodeJS.ProcessEnv): SupervisorLink | undefined {
  const url = env.FLOTILLA_SUPERVISOR_URL?.trim();
  const token = env.FLOTILLA_SUPERVISOR_TOKEN?.trim();
  return url && token ? { url, token } : undefined;
}
