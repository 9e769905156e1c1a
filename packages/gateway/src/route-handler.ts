/** @module Turns a route into a fastify handler: exchange, policies, the action call, the JSON answer. */
import { validateHeaderName, validateHeaderValue } from "node:http";
import { type CallOptions, checkIdempotencyKey, type Host, type Identity } from "@flotilla/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ResponseCache } from "./cache/response-cache.js";
import { RouteCache } from "./cache/route-cache.js";
import { EdgeExchange } from "./edge-exchange.js";
import type { EdgeIds } from "./edge-ids.js";
import { composePolicies, type Exchange, type Policy } from "./policy.js";
import type { RequestState } from "./request-state.js";
import type { RequestView, Route } from "./route.js";

export interface HandlerDeps {
  readonly host: Host;
  readonly log: Host["log"];
  readonly policies: readonly Policy[];
  /** Set by the gateway's onRequest hook for every request that reaches a handler. */
  readonly stateOf: (req: FastifyRequest) => RequestState | undefined;
  /** The gateway's response cache, when one of its routes declares caching. */
  readonly cache?: ResponseCache | undefined;
  /** The version prefixes a call to a service prefers for a request (the gateway's version splits). */
  readonly steer?: CallSteering | undefined;
}

/** Steers a request's calls to a service's versions: the prefixes to prefer, or undefined for no preference. */
export type CallSteering = (service: string, ex: Exchange) => readonly string[] | undefined;

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * The route's action called for an exchange whose policies have run: with its trace, correlation id,
 * caller, timeout, baggage and (for an action that keeps answers by key) its `Idempotency-Key`. Every
 * protocol the gateway speaks calls actions through this.
 */
export function actionCall(host: Host, route: Route, steer?: CallSteering): (ex: Exchange) => Promise<unknown> {
  const keyed = route.action.idempotencyKey !== undefined;
  const { service } = route.action;
  return (ex) => {
    // W3C Baggage travels on to every hop; host.context drops a value too long or unprintable.
    const baggage = ex.request.headers.baggage;
    const versions = steer?.(service, ex);
    let options = keyed ? idempotencyKey(ex.request) : undefined;
    if (versions !== undefined) options = { ...options, versions };
    return host
      .context({
        trace: ex.trace,
        correlationId: ex.correlationId,
        caller: ex.caller,
        timeoutMs: ex.timeoutMs,
        ...(typeof baggage === "string" ? { baggage } : {}),
      })
      .call(route.action, ex.input as never, options);
  };
}

export function routeHandler(route: Route, deps: HandlerDeps) {
  const respond = routeResponder(route, deps);
  return (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => respond(req, reply, undefined);
}

/**
 * Answers a request with the route: its policies, the call, the JSON answer. A traffic split runs the
 * gateway's global policies before it chooses its variant: it passes the caller they found, and deps
 * whose policies no longer repeat those checks.
 */
export function routeResponder(route: Route, deps: HandlerDeps) {
  const call = actionCall(deps.host, route, deps.steer);
  const { cache } = deps;
  const cached =
    route.cache === undefined || cache === undefined ? undefined : new RouteCache(route, route.cache, cache, call);
  const run = composePolicies([...deps.policies, ...route.policies], cached?.call ?? call);
  const deprecation = route.deprecated?.headers;
  return async (req: FastifyRequest, reply: FastifyReply, caller: Identity | undefined): Promise<FastifyReply> => {
    const state = deps.stateOf(req) as RequestState;
    const exchange = new HttpExchange(requestView(req), route, state.ids, reply, deps.log);
    exchange.caller = caller;
    if (deprecation !== undefined) reply.headers(deprecation);
    // The call holds the request's concurrency slot even if the client leaves before it ends.
    state.hold();
    let output: unknown;
    try {
      output = await run(exchange);
    } finally {
      state.release();
      cached?.record(exchange, state.ids.span);
    }
    if (route.invalidates !== undefined) cache?.invalidate(route.invalidates(output, exchange.request));
    if (route.headers !== undefined) {
      for (const [name, value] of Object.entries(route.headers(output, exchange.request))) {
        exchange.setHeader(name, value);
      }
    }
    if (route.location !== undefined) exchange.setHeader("location", route.location(output, exchange.request));
    if (cached !== undefined && output !== undefined) return cached.answer(exchange, output, reply, state.ids.span);
    if (output === undefined || route.status === 204) {
      return reply.code(route.status === 200 ? 204 : route.status).send();
    }
    // Serialized here, not by fastify, so a string output is sent as a JSON string, not as text/plain.
    return reply.code(route.status).header("content-type", JSON_TYPE).send(JSON.stringify(output));
  };
}

/**
 * The `Idempotency-Key` header, for an action that accepts one (elsewhere it is ignored, as a GET
 * ignores it): checked here, so a malformed key is a 400 before anything runs.
 */
function idempotencyKey(request: RequestView): CallOptions | undefined {
  const key = request.headers["idempotency-key"];
  if (key === undefined) return undefined;
  return { idempotencyKey: checkIdempotencyKey(Array.isArray(key) ? key.join(", ") : key) };
}

export function requestView(req: FastifyRequest): RequestView {
  return {
    method: req.method,
    params: (req.params ?? {}) as RequestView["params"],
    query: (req.query ?? {}) as RequestView["query"],
    body: req.body,
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
  };
}

export class HttpExchange extends EdgeExchange {
  constructor(
    request: RequestView,
    route: Route,
    ids: EdgeIds,
    private readonly reply: FastifyReply,
    baseLog: Host["log"],
  ) {
    super(request, route, ids, baseLog, route.timeoutMs);
  }

  setHeader(name: string, value: string): void {
    // Throws on CR/LF and other invalid characters, so a header built from data cannot split the response.
    validateHeaderName(name);
    validateHeaderValue(name, value);
    this.reply.header(name, value);
  }
}
