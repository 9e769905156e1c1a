/** @module Route splits in the gateway: global policies, then the variant's choice, its answer, and maybe a shadow call. */
import type { IncomingMessage } from "node:http";
import type { Identity } from "@flotilla/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Policy } from "../policy.js";
import type { RequestState } from "../request-state.js";
import { type Route, route as routeOf } from "../route.js";
import { type HandlerDeps, HttpExchange, requestView, routeResponder } from "../route-handler.js";
import { policyRoute, proxyHandler } from "../upstream/proxy-handler.js";
import type { ProxyRoute } from "../upstream/proxy-route.js";
import type { Upstream } from "../upstream/upstream.js";
import type { ForwardDeps } from "../upstream/upstream-forward.js";
import type { ComparedAnswer } from "./comparison-report.js";
import { actionShadow, proxyShadow, type ShadowCaller } from "./shadow-call.js";
import { captureAnswer, type Shadowing, UNREAD } from "./shadowing.js";
import type { SplitRoute } from "./splits.js";
import type { TrafficEngine } from "./traffic-engine.js";

export interface SplitDeps extends HandlerDeps, ForwardDeps {
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly engine: TrafficEngine;
  readonly shadowing: Shadowing;
}

type Responder = (req: FastifyRequest, reply: FastifyReply, caller: Identity | undefined) => Promise<FastifyReply>;

/** Where a request's served answer goes once it is sent, when a shadow call waits to compare with it. */
const waiting = new WeakMap<IncomingMessage, (answer: ComparedAnswer) => void>();

/** Registers each split route once, on its method and path, with the JSON body parser of action routes. */
export function installSplitRoutes(app: FastifyInstance, splits: readonly SplitRoute[], deps: SplitDeps): void {
  for (const split of splits) {
    app.route({
      method: split.method,
      url: split.path,
      handler: splitHandler(split, deps),
      // A proxy variant serves HEAD only where it lists it; the split answers the methods it declares.
      exposeHeadRoute: false,
      onSend: (req, reply, payload, done) => {
        const settle = waiting.get(req.raw);
        if (settle === undefined) return done(null, payload);
        waiting.delete(req.raw);
        done(null, captureAnswer(reply.statusCode, payload, settle) as typeof payload);
      },
    });
  }
}

function splitHandler(split: SplitRoute, deps: SplitDeps) {
  const onRequest = deps.policies.filter((p) => p.onRequest !== undefined);
  // The global policies' `around` hooks still wrap each variant's call; their checks ran once, before the choice.
  const around: Policy[] = deps.policies
    .filter((p) => p.around !== undefined)
    .map((p) => ({ name: p.name, around: p.around!.bind(p) }));
  const responders = new Map<string, Responder>();
  const shadows = new Map<string, ShadowCaller>();
  for (const [name, variant] of Object.entries(split.variants)) {
    if (isProxy(variant)) {
      const upstream = deps.upstreams.get(variant.upstream);
      if (upstream === undefined) throw new Error(`split ${split.name}: no upstream named ${variant.upstream}`);
      responders.set(name, proxyHandler(variant, upstream, { ...deps, policies: [] }) as Responder);
      shadows.set(name, proxyShadow(variant, upstream));
    } else {
      responders.set(name, routeResponder(variant, { ...deps, policies: around }));
      shadows.set(name, actionShadow(variant, deps.host, deps.log, around, deps.steer));
    }
  }
  const entry = entryRoute(split);
  const deprecation = split.deprecated?.headers;
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const state = deps.stateOf(req) as RequestState;
    const view = requestView(req);
    const exchange = new HttpExchange(view, entry, state.ids, reply, deps.log);
    if (deprecation !== undefined) reply.headers(deprecation);
    for (const policy of onRequest) await policy.onRequest!(exchange);
    const variant = deps.engine.variantFor(split.name, exchange);
    const shadow = deps.engine.state.rules(split.name)?.shadow;
    if (
      shadow !== undefined &&
      shadow.variant !== variant &&
      req.method === "GET" &&
      Math.random() * 100 < shadow.percent
    ) {
      const answer = new Promise<ComparedAnswer>((resolve) => {
        waiting.set(req.raw, resolve);
        // An answer that never went out whole (the client left, the upstream broke off) is compared by status.
        reply.raw.once("close", () => resolve({ status: reply.statusCode, body: UNREAD }));
      });
      deps.shadowing.start({
        split,
        served: variant,
        shadow: shadow.variant,
        call: shadows.get(shadow.variant) as ShadowCaller,
        method: req.method,
        request: {
          view,
          url: req.raw.url ?? "/",
          caller: exchange.caller,
          ids: state.ids,
          secure: (req.raw.socket as { encrypted?: boolean }).encrypted === true,
        },
        answer,
      });
    }
    return (responders.get(variant) as Responder)(req, reply, exchange.caller);
  };
}

/** The route the global policies see before a variant is chosen: the default variant's. */
function entryRoute(split: SplitRoute): Route {
  const variant = split.variants[split.default] as Route | ProxyRoute;
  if (isProxy(variant)) return policyRoute(variant, split.method);
  return routeOf({ method: split.method, path: split.path, action: variant.action, policies: [] });
}

function isProxy(variant: Route | ProxyRoute): variant is ProxyRoute {
  return (variant as ProxyRoute).kind === "proxy";
}
