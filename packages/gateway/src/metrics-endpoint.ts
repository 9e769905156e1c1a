/** @module The gateway's own `GET /metrics`: the process's Prometheus text, to admins only. */
import { action, defineContract } from "@flotilla/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { authenticated, requireRole } from "./auth/route-policies.js";
import { composePolicies, type Policy } from "./policy.js";
import type { RequestState } from "./request-state.js";
import { route } from "./route.js";
import { type HandlerDeps, HttpExchange, requestView } from "./route-handler.js";

/** What the gateway records each request in, and renders on `/metrics` (`httpMetrics()` of @flotilla/telemetry). */
export interface GatewayMetrics {
  /** A request arrived. */
  started(): void;
  /** Its answer is out (or its client left): `route` is the matched template, undefined when none matched. */
  finished(method: string, route: string | undefined, status: number, seconds: number): void;
  render(): Promise<string>;
  readonly contentType: string;
}

export const METRICS_PATH = "/metrics";

/** Who may read the public `/metrics` unless the gateway is told otherwise: an authenticated admin. */
export const ADMIN_ONLY: readonly Policy[] = [authenticated(), requireRole("admin")];

/**
 * The endpoint as policies see it: a route like any other, so authentication and rate limits apply
 * as they do to the admin API. Its action names what the gateway answers itself; no service serves it.
 */
const edge = defineContract({
  service: "gateway",
  actions: { metrics: action({ input: z.object({}), output: z.string(), idempotent: true }) },
});

export function metricsHandler(metrics: GatewayMetrics, deps: HandlerDeps, policies: readonly Policy[]) {
  const metricsRoute = route({ method: "GET", path: METRICS_PATH, action: edge.metrics, policies });
  const run = composePolicies([...deps.policies, ...policies], () => metrics.render());
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const state = deps.stateOf(req) as RequestState;
    const exchange = new HttpExchange(requestView(req), metricsRoute, state.ids, reply, deps.log);
    state.hold();
    let text: unknown;
    try {
      text = await run(exchange);
    } finally {
      state.release();
    }
    return reply.code(200).header("content-type", metrics.contentType).header("cache-control", "no-store").send(text);
  };
}
