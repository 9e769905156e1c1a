/** @module Mounts @flotilla/dashboard at `/_flotilla` on the gateway, its API behind the gateway's policies. */
import { action, defineContract, type Registry } from "@flotilla/core";
import { dashboardRoutes, type ObservedReader, type Panel, topologyPanel } from "@flotilla/dashboard";
import type { Tracer } from "@opentelemetry/api";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { authenticated, requireRole } from "./auth/route-policies.js";
import { composePolicies, type Policy } from "./policy.js";
import type { RequestState } from "./request-state.js";
import { route } from "./route.js";
import { type HandlerDeps, HttpExchange, requestView } from "./route-handler.js";

/** The gateway's dashboard option (see docs/dashboard.md). */
export interface GatewayDashboardOptions {
  /**
   * Who may use the dashboard's API, after the global policies: an authenticated admin by default.
   * `[]` opens it to anyone who passes the global policies: for development only.
   */
  policies?: readonly Policy[];
  /** The registry the services register with, for their instances wherever they run; absent: this process's services. */
  registry?: Registry;
  /** How often the event stream sends the topology (2,000 ms). */
  refreshMs?: number;
  /** The calls and events seen in recent spans, drawn on the Topology view (runApp gives them from its trace store). */
  observed?: ObservedReader;
  /** Views after Topology (traces, event flow, …), made by their factories in @flotilla/dashboard. */
  panels?: readonly Panel[];
}

/** Who may use the dashboard's API unless the gateway is told otherwise. */
export const DASHBOARD_ADMIN: readonly Policy[] = [authenticated(), requireRole("admin")];

/** The API as policies see it: a route like any other, so authentication and rate limits apply. */
const edge = defineContract({
  service: "gateway",
  actions: { dashboard: action({ input: z.object({}), output: z.unknown(), idempotent: true }) },
});

export function installDashboard(
  app: FastifyInstance,
  options: GatewayDashboardOptions,
  deps: HandlerDeps,
  routed: readonly string[],
  tracer: Tracer | undefined,
): void {
  const policies = options.policies ?? DASHBOARD_ADMIN;
  const api = route({ method: "GET", path: "/_flotilla/api", action: edge.dashboard, policies });
  const run = composePolicies([...deps.policies, ...policies], async () => undefined);
  const topology = topologyPanel({
    host: deps.host,
    routed,
    ...(options.registry ? { registry: options.registry } : {}),
    ...(tracer ? { tracer } : {}),
    ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
    ...(options.observed ? { observed: options.observed } : {}),
  });
  dashboardRoutes(app, {
    panels: [topology, ...(options.panels ?? [])],
    log: deps.log,
    authorize: async (req: FastifyRequest, reply: FastifyReply) => {
      const state = deps.stateOf(req) as RequestState;
      state.hold();
      try {
        const exchange = new HttpExchange(requestView(req), api, state.ids, reply, deps.log);
        await run(exchange);
        const caller = exchange.caller;
        return caller === undefined ? undefined : { subject: caller.subject, roles: caller.roles };
      } finally {
        state.release();
      }
    },
    // An event stream lasts: it leaves the request ceiling, which is for calls.
    onStream: (req: FastifyRequest) => (deps.stateOf(req) as RequestState).release(),
  });
}
