/** @module Proxy routes in the gateway: their policies, then the request forwarded to the upstream, body untouched. */
import { action, defineContract, FlotillaCodes, FlotillaError, type Identity } from "@flotilla/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Policy } from "../policy.js";
import type { RequestState } from "../request-state.js";
import { type HttpMethod, type Route, route } from "../route.js";
import { type HandlerDeps, HttpExchange, requestView } from "../route-handler.js";
import type { ProxyRoute } from "./proxy-route.js";
import type { Upstream } from "./upstream.js";
import { type ForwardDeps, forward } from "./upstream-forward.js";

/**
 * A proxy route as policies see it: a route like any other, so authentication and rate limits apply. Its
 * action names what the gateway does itself; no service serves it, and no input is built or validated.
 */
const edge = defineContract({
  service: "gateway",
  actions: { proxy: action({ input: z.unknown(), output: z.unknown() }) },
});

/**
 * Registers the proxy routes in a context of their own, where no body parser runs: the body streams to
 * the upstream as it arrives. The gateway's hooks (ids, limits, the concurrency ceiling) still apply.
 */
export function installProxies(
  app: FastifyInstance,
  proxies: readonly ProxyRoute[],
  upstreams: ReadonlyMap<string, Upstream>,
  deps: HandlerDeps & ForwardDeps,
): void {
  for (const p of proxies) {
    if (!upstreams.has(p.upstream)) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `proxy ${p.path}: no upstream named ${p.upstream}`);
    }
  }
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_req, _payload, done) => done(null));
    for (const p of proxies) {
      const handler = proxyHandler(p, upstreams.get(p.upstream) as Upstream, deps);
      // HEAD is served only when listed: fastify would otherwise answer it from the GET route.
      scope.route({ method: [...p.methods], url: p.path, handler, exposeHeadRoute: false });
    }
  });
}

/**
 * Forwards a request through the proxy route, after its policies. A traffic split runs the gateway's
 * global policies before it chooses its variant: it passes the caller they found and deps without them.
 */
export function proxyHandler(p: ProxyRoute, upstream: Upstream, deps: HandlerDeps & ForwardDeps) {
  const onRequest = [...deps.policies, ...p.policies].filter((policy) => policy.onRequest !== undefined);
  const routes = new Map(p.methods.map((m) => [m, policyRoute(p, m)]));
  const deprecation = p.deprecated?.headers;
  return async (req: FastifyRequest, reply: FastifyReply, caller?: Identity): Promise<FastifyReply> => {
    const state = deps.stateOf(req) as RequestState;
    const view = requestView(req);
    const exchange = new HttpExchange(view, routes.get(req.method as never) as Route, state.ids, reply, deps.log);
    exchange.caller = caller;
    if (deprecation !== undefined) reply.headers(deprecation);
    for (const policy of onRequest) await (policy as Required<Policy>).onRequest(exchange);
    const url = req.raw.url ?? "/";
    const path = upstreamPath(p, view.params, url);
    const secure = (req.raw.socket as { encrypted?: boolean }).encrypted === true;
    return forward(
      upstream,
      {
        req: req.raw as never,
        reply,
        ids: state.ids,
        path,
        hop: {
          clientAddress: view.remoteAddress,
          proto: secure ? "https" : "http",
          host: req.headers[":authority"] === undefined ? req.headers.host : String(req.headers[":authority"]),
          ...(p.callerHeader === undefined
            ? {}
            : { caller: { header: p.callerHeader, subject: exchange.caller?.subject } }),
        },
      },
      deps,
    );
  };
}

/** The path and query a request to the proxy route is sent upstream with. */
export function upstreamPath(p: ProxyRoute, params: Readonly<Record<string, string>>, url: string): string {
  return p.rewrite === undefined ? url : rewritten(p, params, url, url.indexOf("?"));
}

function rewritten(p: ProxyRoute, params: Readonly<Record<string, string>>, url: string, q: number): string {
  const path = (p.rewrite as NonNullable<ProxyRoute["rewrite"]>)({
    params,
    path: q === -1 ? url : url.slice(0, q),
    search: q === -1 ? "" : url.slice(q),
  });
  if (!path.startsWith("/")) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `proxy ${p.path}: rewrite must return a path starting with /`);
  }
  return path;
}

/** HEAD and OPTIONS are not action-route methods; policies that look at the route see it as a GET. */
export function policyRoute(p: ProxyRoute, method: string): Route {
  const asAction: HttpMethod = method === "HEAD" || method === "OPTIONS" ? "GET" : (method as HttpMethod);
  return route({ method: asAction, path: p.path, action: edge.proxy, policies: p.policies });
}
