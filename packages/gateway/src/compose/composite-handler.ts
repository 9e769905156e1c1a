/** @module Turns a composite route into a fastify handler: policies once, the parts composed, the answer shaped and parsed through its public schema. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { composePolicies } from "../policy.js";
import type { RequestState } from "../request-state.js";
import type { Route } from "../route.js";
import { type HandlerDeps, HttpExchange, requestView } from "../route-handler.js";
import type { Upstream } from "../upstream/upstream.js";
import { type ComposeDeps, composeParts } from "./compose-parts.js";
import { CompositeCodes } from "./composite-errors.js";
import { type CompositeRoute, isComposite } from "./composite-route.js";

/** The response header naming the optional parts an answer lacks, comma-separated. */
export const PARTIAL_HEADER = "flotilla-partial";

const JSON_TYPE = "application/json; charset=utf-8";

/** A composite answer on its way out: the exchange also carries the parts it lacks. */
class CompositeExchange extends HttpExchange {
  partial: readonly string[] = [];
}

/**
 * Registers the gateway's composite routes. An upstream part must name one of the gateway's upstreams
 * (FLOTILLA_CONFIG otherwise, when the gateway is made).
 */
export function installComposites(
  app: FastifyInstance,
  routes: readonly Route[],
  deps: HandlerDeps & Omit<ComposeDeps, "upstream" | "host"> & { upstreams: ReadonlyMap<string, Upstream> },
): void {
  const upstream = (name: string) => deps.upstreams.get(name) as Upstream;
  for (const r of routes) {
    if (!isComposite(r)) continue;
    for (const { upstream: name } of r.composition.parts.values()) {
      if (name !== undefined && !deps.upstreams.has(name)) {
        throw FlotillaError.of(FlotillaCodes.CONFIG, `composite ${r.path}: no upstream named ${name}`);
      }
    }
    app.route({ method: r.method, url: r.path, handler: compositeHandler(r, { ...deps, upstream }) });
  }
}

function compositeHandler(route: CompositeRoute, deps: HandlerDeps & ComposeDeps) {
  const { composition } = route;
  const run = composePolicies([...deps.policies, ...route.policies], async (ex) => {
    const { values, partial } = await composeParts(
      route.path,
      composition,
      ex,
      deps,
      (ex as CompositeExchange).ids.span,
    );
    (ex as CompositeExchange).partial = partial;
    const shaped = composition.shape(values, { request: ex.request, partial });
    const parsed = composition.output.safeParse(shaped);
    if (!parsed.success) {
      throw FlotillaError.of(
        CompositeCodes.SHAPE_INVALID,
        `composite ${composition.name}: the shaped answer does not fit its output schema`,
        { details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) } },
      );
    }
    return parsed.data;
  });
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const state = deps.stateOf(req) as RequestState;
    const exchange = new CompositeExchange(requestView(req), route, state.ids, reply, deps.log);
    state.hold();
    let output: unknown;
    try {
      output = await run(exchange);
    } finally {
      state.release();
    }
    if (exchange.partial.length > 0) exchange.setHeader(PARTIAL_HEADER, exchange.partial.join(", "));
    return reply.code(200).header("content-type", JSON_TYPE).send(JSON.stringify(output));
  };
}
