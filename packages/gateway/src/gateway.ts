/** @module The gateway: a fastify server mapping HTTP routes to Flotilla actions through policies, within resource limits. */
import type { ServerResponse } from "node:http";
import { FlotillaCodes, FlotillaError, type Host } from "@flotilla/core";
import { type Span, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { type AccessLogMode, accessLog } from "./access-log.js";
import type { GatewayCacheOptions } from "./cache/cache-options.js";
import { installCache } from "./cache/install-cache.js";
import { clientErrorHandler } from "./client-error.js";
import { type CompositeMetrics, installComposites, isComposite, routedServices } from "./compose/index.js";
import { ConcurrencyLimit } from "./concurrency-limit.js";
import { ConnectionTracker } from "./connections.js";
import { type GatewayDashboardOptions, installDashboard } from "./dashboard-mount.js";
import { type EdgeIds, edgeIds, ResponseHeaders } from "./edge-ids.js";
import { type GrpcEndpoint, type GrpcOptions, GrpcServer } from "./grpc/grpc-server.js";
import { registerHealthRoutes } from "./health.js";
import { errorBody, GatewayCodes, httpStatusOf, toFlotillaError } from "./http-errors.js";
import { installJsonBodyParser } from "./json-body.js";
import { type GatewayLimits, resolveLimits } from "./limits.js";
import { closeLingering } from "./lingering-close.js";
import { installLive } from "./live/live-endpoint.js";
import type { LiveOptions } from "./live/live-options.js";
import { ADMIN_ONLY, type GatewayMetrics, METRICS_PATH, metricsHandler } from "./metrics-endpoint.js";
import { type OpenApiInfo, registerOpenApiRoute } from "./openapi/index.js";
import type { Policy } from "./policy.js";
import { headRefusal, stripInternalHeaders } from "./request-guard.js";
import { attachState, RequestState, stateOf } from "./request-state.js";
import type { Route } from "./route.js";
import { routeHandler } from "./route-handler.js";
import {
  applyHttp1Limits,
  loadKeyPairSync,
  plainServerOptions,
  secureServerOptions,
  type TlsOptions,
  watchKeyPair,
} from "./tls/index.js";
import { installTraffic, type TrafficGatewayOptions } from "./traffic/install-traffic.js";
import { installUpstreams, type UpstreamGatewayOptions } from "./upstream/index.js";

/** Limits (see GatewayLimits for each one's default) are options too: `bodyLimitBytes`, `maxConcurrentRequests`, … */
export interface GatewayOptions extends Partial<GatewayLimits>, UpstreamGatewayOptions, TrafficGatewayOptions {
  host: Host;
  routes: readonly Route[];
  /** Policies for every route, run before each route's own. */
  policies?: readonly Policy[];
  /** Defaults to the host's logger; either way the lines carry service `gateway`, at the level configured for it. */
  logger?: Host["log"];
  /** One line per request (true, the default), per failed request ("errors": 400 and above), or none (false). */
  accessLog?: AccessLogMode;
  /** Opens a SERVER span per request, the parent of every span its call leads to; absent: none. */
  tracer?: Tracer;
  /**
   * Records every request (by method, route template and status) and serves `GET /metrics` with the
   * process's metrics; `httpMetrics()` of @flotilla/telemetry makes one. Absent: no metrics, no endpoint.
   */
  metrics?: GatewayMetrics;
  /** Who may read `GET /metrics`, after the global policies: `[authenticated(), requireRole("admin")]` by default. */
  metricsPolicies?: readonly Policy[];
  /** Live push (SSE and WebSocket) of events marked for their user; absent: none. See docs/live.md. */
  live?: LiveOptions;
  /** Serves the routes' OpenAPI 3.1 document at `GET /openapi.json` (public) with this title and version; absent: none. */
  openapi?: OpenApiInfo;
  /** Terminate TLS with this certificate and key (HTTP/2, and HTTP/1.1 by ALPN), reloaded when the files change; absent: plain HTTP/1.1. */
  tls?: TlsOptions;
  /** Also serves the routes' actions (and live push) over gRPC on a port of its own; absent: no gRPC. See docs/grpc.md. */
  grpc?: GrpcOptions;
  /** The response cache of routes that declare `cache` (64 MiB by default); false serves them uncached. See docs/caching.md. */
  cache?: GatewayCacheOptions | false;
  /** Records each part of each composite route's requests; `compositeMetrics()` of @flotilla/telemetry makes one. See docs/aggregation.md. */
  compositeMetrics?: CompositeMetrics;
  /**
   * On close, first keep serving for this long with every answer closing its connection and `/readyz`
   * answering 503, so clients held on keep-alive connections by a balancer in front reconnect to another
   * instance instead of meeting a closed socket; then refuse new requests and close. Default 0: refuse at once.
   */
  drainMs?: number;
  /** Serves the web dashboard at `/_flotilla`, its API admin-only by default; absent: none. See docs/dashboard.md. */
  dashboard?: GatewayDashboardOptions;
}

export interface ListenOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Interface to bind (127.0.0.1); use 0.0.0.0 in a container. */
  host?: string;
}

export interface Gateway {
  readonly app: FastifyInstance;
  /** The gRPC server, when the `grpc` option asked for one; its address is known once `listen` resolved. */
  readonly grpc: GrpcEndpoint | undefined;
  /** Starts serving; resolves with the address, e.g. `http://127.0.0.1:8080`. */
  listen(options?: ListenOptions): Promise<string>;
  /** Drains for `drainMs`, answers new requests with 503, lets in-flight ones finish, then closes. Leaves the host running. */
  close(): Promise<void>;
}

/** Probes must answer while the gateway sheds load, or an orchestrator would restart a busy instance. */
const EXEMPT_FROM_CEILING: ReadonlySet<string | undefined> = new Set(["/healthz", "/readyz"]);

export function createGateway(options: GatewayOptions): Gateway {
  const { host, routes } = options;
  const limits = resolveLimits(options);
  // The gateway's lines count as service `gateway`, for their fields and their level.
  const log = host.serviceLog("gateway", `gateway-${host.id}`, options.logger);
  const logAccess = accessLog(log, options.accessLog ?? true);
  const ceiling = new ConcurrencyLimit(limits.maxConcurrentRequests);
  const metrics = options.metrics;
  let closing = false;
  // Draining: still serving, but every answer closes its connection and /readyz says not ready.
  let draining = false;

  // One shared listener (it finds its request's state through `this`) rather than a closure per request.
  function onAnswerClosed(this: ServerResponse): void {
    const state = stateOf(this.req) as RequestState;
    state.release();
    // Closed before the answer was out: the client left first (nginx's 499, "client closed request").
    const status = this.writableFinished ? this.statusCode : 499;
    logAccess(this.req.method ?? "", this.req.url ?? "", state, status);
    metrics?.finished(this.req.method ?? "", state.route, status, (performance.now() - state.start) / 1000);
    if (state.ids.span !== undefined) endRequestSpan(state.ids.span, this.req.method ?? "", state.route, status);
  }
  const begin = (req: FastifyRequest, reply: FastifyReply): RequestState => {
    const existing = stateOf(req.raw);
    if (existing !== undefined) return existing;
    // A response closes once; `once` would add a wrapper and a removeListener per request, which the
    // route-count benchmark found to be most of the extra CPU per request with 1,000 routes (bench/RESULTS.md).
    reply.raw.on("close", onAnswerClosed);
    metrics?.started();
    return attachState(req.raw, new RequestState(edgeIds(req.headers, options.tracer, req.method)));
  };

  const sendError = (err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const { ids } = begin(req, reply);
    const fe = toFlotillaError(err, limits.bodyLimitBytes);
    const status = httpStatusOf(fe);
    ids.span?.setAttribute("error.type", fe.code);
    if (status === 500) {
      log.error(
        {
          err,
          code: fe.code,
          route: req.routeOptions.url,
          trace_id: ids.trace.traceId,
          span_id: ids.trace.spanId,
          correlation_id: ids.correlationId,
        },
        "request failed",
      );
    }
    // A refused body may still be on its way: the connection ends after this answer, lingering so it arrives.
    // (HTTP/2 ends just the stream, the connection's other streams go on.)
    if (status === 413 && !req.raw.complete && req.raw.httpVersionMajor === 1) closeLingering(reply, limits);
    setEdgeHeaders(reply, ids);
    return reply
      .code(status)
      .header("content-type", "application/json; charset=utf-8")
      .send(JSON.stringify(errorBody(fe, status, ids.trace.traceId)));
  };

  // A pair that does not load stops the start: serving plain HTTP instead would be a silent downgrade.
  const pair = options.tls === undefined ? undefined : loadKeyPairSync(options.tls);
  const app = Fastify({
    ...(pair === undefined ? plainServerOptions(limits) : secureServerOptions(limits, pair)),
    // Access logging is ours (one line per request with trace ids); fastify's logger stays off.
    logger: false,
    bodyLimit: limits.bodyLimitBytes,
    // fastify disables Node's whole-request timeout; without one a client trickling a body holds a socket forever.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Shutdown answers go through our error shape (see the onRequest hook) instead of fastify's.
    return503OnClosing: false,
    // Requests fastify refuses before routing (a bad URL) skip the hooks, so they are logged here.
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) => {
      sendError(err, req, reply);
    },
    clientErrorHandler: clientErrorHandler(log),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  // Node drops headers past maxHeadersCount silently; one more than the limit lets us see, and refuse, the excess.
  app.server.maxHeadersCount = limits.maxHeaders + 1;
  installJsonBodyParser(app, limits.maxJsonDepth);
  const connections = new ConnectionTracker(app.server, pair !== undefined);
  let certificates: { close(): void } | undefined;
  if (pair !== undefined && options.tls !== undefined) {
    applyHttp1Limits(app.server as never, limits);
    certificates = watchKeyPair(app.server as never, options.tls, pair, log);
  }

  // Hooks take a callback rather than returning a promise: one promise less per request and hook.
  app.addHook("onRequest", (req, reply, done) => {
    const state = begin(req, reply);
    state.route = req.routeOptions.url;
    state.ids.span?.setAttribute(
      "network.protocol.version",
      req.raw.httpVersionMajor === 2 ? "2" : req.raw.httpVersion,
    );
    setEdgeHeaders(reply, state.ids);
    if (closing) {
      reply.header("connection", "close");
      done(FlotillaError.of(FlotillaCodes.SHUTTING_DOWN, "the gateway is shutting down"));
      return;
    }
    const refusal = headRefusal(req.raw, limits);
    if (refusal !== undefined) {
      done(refusal);
      return;
    }
    stripInternalHeaders(req.raw.headers);
    // Refused before the body is read or any service is called: shedding must cost next to nothing.
    if (!EXEMPT_FROM_CEILING.has(state.route) && !state.admit(ceiling)) {
      reply.header("retry-after", "1");
      done(FlotillaError.of(GatewayCodes.GATEWAY_OVERLOADED, "the gateway is at capacity, retry shortly"));
      return;
    }
    done();
  });
  app.addHook("onSend", (_req, reply, payload, done) => {
    // Answers finishing during shutdown close their keep-alive connection, or close() would wait for it.
    if (closing || draining) reply.header("connection", "close");
    done(null, payload);
  });
  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) => sendError(new FlotillaError("NOT_FOUND", "no route matches"), req, reply));

  registerHealthRoutes(app, host, routedServices(routes), () => draining || closing);
  const traffic = installTraffic(app, { ...options, routes }, host, log);
  const deps = {
    host,
    log,
    policies: options.policies ?? [],
    stateOf: (req: FastifyRequest) => stateOf(req.raw),
    cache: installCache(app, host, routes, log, options.cache),
    steer: traffic?.steer,
  };
  for (const r of routes) {
    if (!isComposite(r)) app.route({ method: r.method, url: r.path, handler: routeHandler(r, deps) });
  }
  const hub =
    options.live === undefined ? undefined : installLive(app, { ...deps, tracer: options.tracer }, options.live);
  if (options.openapi !== undefined) {
    const documented = [...routes, ...(traffic?.documented ?? [])];
    registerOpenApiRoute(app, options.openapi, documented, options.policies ?? []);
  }
  const upstreams = installUpstreams(app, options, {
    ...deps,
    tracer: options.tracer,
    bodyLimitBytes: limits.bodyLimitBytes,
  });
  installComposites(app, routes, {
    ...deps,
    tracer: options.tracer,
    metrics: options.compositeMetrics,
    upstreams: upstreams.byName,
    upstreamMetrics: options.upstreamMetrics,
    bodyLimitBytes: limits.bodyLimitBytes,
  });
  traffic?.installRoutes(upstreams.byName, {
    ...deps,
    tracer: options.tracer,
    bodyLimitBytes: limits.bodyLimitBytes,
    metrics: options.upstreamMetrics,
  });
  if (options.dashboard !== undefined) {
    installDashboard(app, options.dashboard, deps, routedServices(routes), options.tracer);
  }
  if (metrics !== undefined) {
    app.get(METRICS_PATH, metricsHandler(metrics, deps, options.metricsPolicies ?? ADMIN_ONLY));
  }

  const grpc =
    options.grpc === undefined
      ? undefined
      : new GrpcServer(options.grpc, {
          ...deps,
          tracer: options.tracer,
          metrics,
          logAccess,
          ceiling,
          closing: () => closing,
          routes,
          limits,
          live: hub === undefined || options.live === undefined ? undefined : { hub, options: options.live },
          tls: pair,
        });

  return {
    app,
    grpc,
    listen: async (opts = {}) => {
      const address = await app.listen({ port: opts.port ?? 0, host: opts.host ?? "127.0.0.1" });
      await grpc?.listen();
      upstreams.start();
      return address;
    },
    close: async () => {
      if (!closing && !draining && (options.drainMs ?? 0) > 0) {
        draining = true;
        await new Promise((resolve) => setTimeout(resolve, options.drainMs));
      }
      closing = true;
      certificates?.close();
      connections.closeIdle();
      // The live hub closes with the HTTP server, which ends the gRPC streams the gRPC server waits for.
      await Promise.all([app.close(), grpc?.close()]);
      await upstreams.close();
      const proxied = (options.proxies ?? []).flatMap((p) => p.policies);
      const policies = new Set([...(options.policies ?? []), ...routes.flatMap((r) => r.policies), ...proxied]);
      await Promise.all([...policies].map((p) => p.close?.()));
    },
  };
}

/** Ends the request's span: named by its route, with the answer's status; a 5xx (or 499) is a failure. */
function endRequestSpan(span: Span, method: string, route: string | undefined, status: number): void {
  if (route !== undefined) {
    span.updateName(`${method} ${route}`);
    span.setAttribute("http.route", route);
  }
  span.setAttribute("http.response.status_code", status);
  if (status >= 500 || status === 499) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
  span.end();
}

function setEdgeHeaders(reply: FastifyReply, ids: EdgeIds): void {
  reply
    .header(ResponseHeaders.traceId, ids.trace.traceId)
    .header(ResponseHeaders.correlationId, ids.correlationId)
    .header(ResponseHeaders.traceparent, ids.traceparent);
}
