/** @module The admin routes of traffic splits on the gateway's public port: list, change, and the comparison reports. */
import { type ActionRef, action, defineContract, FlotillaError } from "@flotilla/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { authenticated, requireRole } from "../auth/route-policies.js";
import { composePolicies, type Exchange, type Policy } from "../policy.js";
import type { RequestState } from "../request-state.js";
import { type HttpMethod, route } from "../route.js";
import { type HandlerDeps, HttpExchange, requestView } from "../route-handler.js";
import type { TrafficEngine } from "./traffic-engine.js";
import type { TrafficSync } from "./traffic-sync.js";

export const TRAFFIC_PATH = "/_flotilla/traffic";

/** Who may read and change the splits unless the gateway is told otherwise: an authenticated admin. */
export const TRAFFIC_ADMIN: readonly Policy[] = [authenticated(), requireRole("admin")];

/**
 * The endpoints as policies see them: routes like any other, so authentication and rate limits apply.
 * Their actions name what the gateway answers itself; no service serves them.
 */
const edge = defineContract({
  service: "gateway",
  actions: {
    listTraffic: action({ input: z.object({}), output: z.unknown(), idempotent: true }),
    setTraffic: action({ input: z.object({ split: z.string() }), output: z.unknown() }),
    trafficReport: action({ input: z.object({ split: z.string() }), output: z.unknown(), idempotent: true }),
    resetTrafficReport: action({ input: z.object({ split: z.string() }), output: z.unknown() }),
  },
});

type Answer = (ex: Exchange) => unknown | Promise<unknown>;

/** Registers `GET /_flotilla/traffic`, `PUT /_flotilla/traffic/:split` and `GET|DELETE /_flotilla/traffic/:split/report`. */
export function installTrafficAdmin(
  app: FastifyInstance,
  engine: TrafficEngine,
  sync: TrafficSync,
  gatewayId: string,
  deps: HandlerDeps,
  policies: readonly Policy[],
): void {
  const { state } = engine;
  const splitOf = (ex: Exchange): string => {
    const name = (ex.request.params as { split: string }).split;
    if (!state.has(name))
      throw new FlotillaError("NOT_FOUND", `no traffic split named ${name}`, { details: { split: name } });
    return name;
  };
  const reportOf = (ex: Exchange) => {
    const name = splitOf(ex);
    const report = engine.report(name);
    if (report === undefined) {
      throw new FlotillaError("FAILED_PRECONDITION", `split ${name} splits versions: only route splits shadow`, {
        details: { split: name },
      });
    }
    return report;
  };
  const endpoint = (method: HttpMethod, path: string, ref: ActionRef, answer: Answer) => {
    const r = route({ method, path, action: ref, input: (req) => ({ ...req.params }), policies });
    const run = composePolicies([...deps.policies, ...policies], async (ex) => answer(ex));
    app.route({
      method,
      url: path,
      handler: async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
        const st = deps.stateOf(req) as RequestState;
        const exchange = new HttpExchange(requestView(req), r, st.ids, reply, deps.log);
        st.hold();
        let body: unknown;
        try {
          body = await run(exchange);
        } finally {
          st.release();
        }
        return reply
          .code(200)
          .header("content-type", "application/json; charset=utf-8")
          .header("cache-control", "no-store")
          .send(JSON.stringify(body));
      },
    });
  };
  endpoint("GET", TRAFFIC_PATH, edge.listTraffic, () => ({ gateway: gatewayId, splits: state.views() }));
  endpoint("PUT", `${TRAFFIC_PATH}/:split`, edge.setTraffic, async (ex) => {
    const name = splitOf(ex);
    const change = state.propose(name, ex.request.body, ex.caller?.subject, gatewayId);
    // Published before it applies here: a change the transport refused is a 503 and changes nothing.
    await sync.publish(change);
    state.commit(change);
    ex.log.info({ split: name, version: change.version, by: change.changedBy }, "traffic: rules changed here");
    return state.view(name);
  });
  endpoint("GET", `${TRAFFIC_PATH}/:split/report`, edge.trafficReport, (ex) => reportOf(ex).view());
  endpoint("DELETE", `${TRAFFIC_PATH}/:split/report`, edge.resetTrafficReport, (ex) => {
    const report = reportOf(ex);
    report.reset();
    return report.view();
  });
}
