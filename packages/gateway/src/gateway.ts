/** @module The gateway: a fastify server mapping HTTP routes to Flotilla actions through policies. */
import { FlotillaCodes, FlotillaError, type Host } from "@flotilla/core";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { clientErrorHandler } from "./client-error.js";
import { ConnectionTracker } from "./connections.js";
import { type EdgeIds, edgeIds, responseHeaders } from "./edge-ids.js";
import { registerHealthRoutes } from "./health.js";
import { errorBody, httpStatusOf, toFlotillaError } from "./http-errors.js";
import { DEFAULT_MAX_JSON_DEPTH, installJsonBodyParser } from "./json-body.js";
import type { Policy } from "./policy.js";
import type { Route } from "./route.js";
import { routeHandler } from "./route-handler.js";

export interface GatewayOptions {
  host: Host;
  routes: readonly Route[];
  /** Policies for every route, run before each route's own. */
  policies?: readonly Policy[];
  /** Largest request body accepted, in bytes (1 MiB); larger ones get 413. */
  bodyLimitBytes?: number;
  /** Deepest JSON nesting accepted in a body (64). */
  maxJsonDepth?: number;
  /** Defaults to the host's logger. */
  logger?: Host["log"];
}

export interface ListenOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Interface to bind (127.0.0.1); use 0.0.0.0 in a container. */
  host?: string;
}

export interface Gateway {
  readonly app: FastifyInstance;
  /** Starts serving; resolves with the address, e.g. `http://127.0.0.1:8080`. */
  listen(options?: ListenOptions): Promise<string>;
  /** Answers new requests with 503, lets in-flight ones finish, then closes. Leaves the host running. */
  close(): Promise<void>;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;
const MAX_LOGGED_PATH = 256;
const REQUEST_TIMEOUT_MS = 30_000;

interface RequestState {
  readonly ids: EdgeIds;
  readonly start: number;
  logged: boolean;
}

export function createGateway(options: GatewayOptions): Gateway {
  const { host, routes } = options;
  const log = (options.logger ?? host.log).child({ component: "gateway" });
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  let closing = false;

  // Per-request state lives beside the request rather than on it, so fastify's types stay untouched.
  const states = new WeakMap<FastifyRequest, RequestState>();
  const stateOf = (req: FastifyRequest): RequestState => {
    let state = states.get(req);
    if (state === undefined) {
      state = { ids: edgeIds(req.headers), start: performance.now(), logged: false };
      states.set(req, state);
    }
    return state;
  };
  const idsOf = (req: FastifyRequest): EdgeIds => stateOf(req).ids;

  const accessLog = (req: FastifyRequest, status: number): void => {
    const state = stateOf(req);
    if (state.logged) return;
    state.logged = true;
    const template = req.routeOptions.url;
    log.info(
      {
        method: req.method,
        route: template ?? null,
        ...(template === undefined ? { path: pathOf(req.url) } : {}),
        status,
        durationMs: Math.round((performance.now() - state.start) * 100) / 100,
        traceId: state.ids.trace.traceId,
        correlationId: state.ids.correlationId,
      },
      "request",
    );
  };

  const sendError = (err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const ids = idsOf(req);
    const fe = toFlotillaError(err, bodyLimit);
    const status = httpStatusOf(fe);
    if (status === 500) {
      log.error(
        {
          err,
          code: fe.code,
          route: req.routeOptions.url,
          traceId: ids.trace.traceId,
          correlationId: ids.correlationId,
        },
        "request failed",
      );
    }
    return reply
      .code(status)
      .headers(responseHeaders(ids))
      .header("content-type", "application/json; charset=utf-8")
      .send(JSON.stringify(errorBody(fe, status, ids.trace.traceId)));
  };

  const app = Fastify({
    // Access logging is ours (one line per request with trace ids); fastify's logger stays off.
    logger: false,
    bodyLimit,
    // fastify disables Node's whole-request timeout; without one a client trickling a body holds a socket forever.
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Shutdown answers go through our error shape (see the onRequest hook) instead of fastify's.
    return503OnClosing: false,
    // Requests fastify refuses before routing (a bad URL) skip the hooks, so they are logged here.
    frameworkErrors: (err, req, reply) => {
      reply.raw.once("close", () => accessLog(req, reply.statusCode));
      sendError(err, req, reply);
    },
    clientErrorHandler: clientErrorHandler(log),
  });
  installJsonBodyParser(app, options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH);
  const connections = new ConnectionTracker(app.server);

  app.addHook("onRequest", async (req, reply) => {
    reply.headers(responseHeaders(idsOf(req)));
    if (closing) {
      reply.header("connection", "close");
      throw FlotillaError.of(FlotillaCodes.SHUTTING_DOWN, "the gateway is shutting down");
    }
  });
  app.addHook("onSend", async (_req, reply) => {
    // Answers finishing during shutdown close their keep-alive connection, or close() would wait for it.
    if (closing) reply.header("connection", "close");
  });
  app.addHook("onResponse", async (req, reply) => accessLog(req, reply.statusCode));
  // 499 (nginx's "client closed request"): the client left before the answer, so no onResponse follows.
  app.addHook("onRequestAbort", async (req) => accessLog(req, 499));
  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) => sendError(new FlotillaError("NOT_FOUND", "no route matches"), req, reply));

  registerHealthRoutes(app, host, [...new Set(routes.map((r) => r.action.service))]);
  const deps = { host, log, policies: options.policies ?? [], idsOf };
  for (const r of routes) app.route({ method: r.method, url: r.path, handler: routeHandler(r, deps) });

  return {
    app,
    listen: (opts = {}) => app.listen({ port: opts.port ?? 0, host: opts.host ?? "127.0.0.1" }),
    close: async () => {
      closing = true;
      connections.closeIdle();
      await app.close();
    },
  };
}

function pathOf(url: string): string {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
}
