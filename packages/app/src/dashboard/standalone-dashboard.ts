/**
 * @module The dashboard of a split system, served by a process of its own (`flotilla dashboard`, and
 * `flotilla up` in the supervisor's process): no service runs here, so the topology comes from the NATS
 * registry, the events from the broker, the traces from the spans the instances export to its OTLP
 * receiver, and scaling from the supervisor named. See docs/dashboard.md.
 */
import { rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createLogger, FlotillaError, type Logger, resolveRegistry, resolveTransport } from "@flotilla/core";
import { dashboardRoutes, topologyPanel } from "@flotilla/dashboard";
import { isComposite } from "@flotilla/gateway";
import { errorBody, httpStatusOf, toFlotillaError } from "@flotilla/gateway/internal";
import { natsRegistry } from "@flotilla/nats";
import { sqliteTraceStore, TRACE_FILE, type TraceStore, traceRecorder } from "@flotilla/telemetry";
import { type Span, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { FlotillaApp } from "../app.js";
import { appTransports } from "../app-transports.js";
import { receiveOtlpJson } from "../otlp-receiver.js";
import type { SupervisorLink } from "./dashboard-context.js";
import { type DashboardParts, openDashboardParts } from "./dashboard-parts.js";
import { bearerAccess, DASHBOARD_FILE, newAdminToken, writeDashboardFile } from "./standalone-access.js";

/** Where the dashboard's OTLP/HTTP JSON receiver listens: FLOTILLA_TRACE_COLLECTOR is `<origin>` + this. */
export const COLLECTOR_PATH = "/v1/traces";

/** The default port of `flotilla dashboard`. */
export const DASHBOARD_PORT = 9400;

export interface ServeDashboardOptions {
  /** The app the system runs: its services are the topology's, its contracts the panels'. */
  readonly app: FlotillaApp;
  /** The system's NATS server (`nats://host:4222`): its registry, its events and dead letters. */
  readonly natsUrl: string;
  /** Where the dashboard keeps its files: dashboard.json, its trace store, its panels' own files. */
  readonly dataDir: string;
  /** Default 9400; 0 picks a free one. */
  readonly port?: number;
  /** The interface it listens on, and no other (default 127.0.0.1). */
  readonly host?: string;
  /** A supervisor to show and to scale through (`flotilla up`, or `--supervisor DIR`). */
  readonly supervisor?: SupervisorLink;
  /** No admin token: anyone who reaches the port may use it. Development only (`flotilla dev`, `--open`). */
  readonly open?: boolean;
  /** How often the topology is sent (2,000 ms). */
  readonly refreshMs?: number;
  readonly log?: Logger;
}

export interface ServedDashboard {
  /** The page, e.g. `http://127.0.0.1:9400/_flotilla`. */
  readonly url: string;
  /** Where instances send their spans (their FLOTILLA_TRACE_COLLECTOR). */
  readonly collectorUrl: string;
  /** The admin bearer token; undefined when open. */
  readonly token: string | undefined;
  /** Stops serving, then closes the registry, the events and the trace store; removes dashboard.json. */
  close(): Promise<void>;
}

/** Serves the dashboard; answers once it listens and, unless open, once dashboard.json holds its token. */
export async function serveDashboard(options: ServeDashboardOptions): Promise<ServedDashboard> {
  const log = options.log ?? createLogger({ name: "dashboard" });
  const listenHost = options.host ?? "127.0.0.1";
  const token = options.open ? undefined : newAdminToken();
  const check = bearerAccess(token);
  const registry = resolveRegistry(options.natsUrl, { nats: natsRegistry });
  // One store for the whole system: the spans the instances export here, and the dashboard's own.
  const traces = traceRecorder({
    service: "dashboard",
    instance: `${hostname()}-${process.pid}`,
    store: sqliteTraceStore({ file: join(options.dataDir, TRACE_FILE) }),
  });
  const tracer = traces.tracer;
  // Its own connection to the broker, for the live messages of the event flow view.
  const transport = resolveTransport(options.natsUrl, appTransports(options.dataDir));
  let parts: DashboardParts | undefined;
  const server = Fastify({ logger: false, forceCloseConnections: true });
  const releaseAll = async () => {
    await parts?.close();
    await transport.close();
    await registry.close();
    await traces.close();
  };
  try {
    // The registry's view opens on first use; opened now, the first page already lists the instances
    // (and a NATS server that cannot be reached fails the start instead of showing an empty system).
    if ("connect" in registry && typeof registry.connect === "function") await registry.connect();
    await transport.connect();
    parts = await openDashboardParts({
      app: options.app,
      host: undefined,
      registry,
      transportUrl: options.natsUrl,
      transport,
      traces: traces.store,
      metrics: undefined,
      supervisor: options.supervisor,
      dataDir: options.dataDir,
      tracer,
      log,
    });
    const services = options.app.services.map((s) => s.name);
    const topology = topologyPanel({
      host: { id: `dashboard-${hostname()}-${process.pid}`, services, isReady: async () => true },
      registry,
      routed: routedBy(options.app),
      tracer,
      observed: parts.observed,
      ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
    });
    const spans = requestSpans(server, tracer);
    const sendError = (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
      const fe = toFlotillaError(err, server.initialConfig.bodyLimit ?? 1_048_576);
      const status = httpStatusOf(fe);
      if (status === 500) log.error({ err, code: fe.code, route: req.routeOptions.url }, "dashboard request failed");
      return reply.code(status).send(errorBody(fe, status, spans.get(req)?.spanContext().traceId ?? ""));
    };
    server.setErrorHandler(sendError);
    server.setNotFoundHandler((req, reply) =>
      sendError(new FlotillaError("NOT_FOUND", "no route matches"), req, reply),
    );
    dashboardRoutes(server, {
      panels: [topology, ...parts.panels],
      log,
      authorize: async (req) => check(req.headers),
    });
    installCollector(server, traces.store);
    await server.listen({ port: options.port ?? DASHBOARD_PORT, host: listenHost });
  } catch (err) {
    await server.close();
    await releaseAll();
    throw err;
  }
  const address = server.server.address();
  const port = typeof address === "object" && address !== null ? address.port : (options.port ?? DASHBOARD_PORT);
  // Show the name asked for, or localhost for every interface (as the gateway does).
  const shown = listenHost === "0.0.0.0" || listenHost === "::" ? "localhost" : listenHost;
  const origin = `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
  const url = `${origin}/_flotilla`;
  const file = join(options.dataDir, DASHBOARD_FILE);
  // Open, no file: one left by an earlier run would name a token that opens nothing now.
  if (token === undefined) rmSync(file, { force: true });
  else writeDashboardFile(options.dataDir, { url, token, pid: process.pid });
  log.info({ url, open: token === undefined }, "dashboard listening");
  return {
    url,
    collectorUrl: `${origin}${COLLECTOR_PATH}`,
    token,
    async close() {
      await server.close();
      await releaseAll();
      if (token !== undefined) rmSync(file, { force: true });
    },
  };
}

/** The services the app's gateway routes to (the topology marks them), composites' parts included. */
function routedBy(app: FlotillaApp): string[] {
  const routes = app.gateway?.routes ?? [];
  const names = routes.flatMap((r) =>
    isComposite(r)
      ? [...r.composition.parts.values()].flatMap((p) => (p.service === undefined ? [] : [p.service]))
      : [r.action.service],
  );
  return [...new Set(names)];
}

/**
 * A span `dashboard.http` per API request (the panels' own spans nest under it, and an error answer
 * carries its trace id). The page's files and the OTLP receiver get none: the receiver's would add a
 * trace to the store for every batch it stores.
 */
function requestSpans(server: FastifyInstance, tracer: Tracer): WeakMap<FastifyRequest, Span> {
  const spans = new WeakMap<FastifyRequest, Span>();
  server.addHook("onRequest", async (req) => {
    if (!req.url.startsWith("/_flotilla/api/")) return;
    const span = tracer.startSpan("dashboard.http", {
      attributes: { "http.request.method": req.method, "url.path": req.url.split("?")[0] ?? "" },
    });
    spans.set(req, span);
  });
  server.addHook("onResponse", async (req, reply) => {
    const span = spans.get(req);
    if (span === undefined) return;
    span.setAttribute("http.response.status_code", reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return spans;
}

/**
 * `POST /v1/traces`: the OTLP/HTTP JSON receiver, as an instance's ops port serves it. Its body is read
 * by the receiver (gzip, size limit), so fastify's parsers are off in its scope. Like the ops port's, it
 * takes spans without a token: the dashboard listens on loopback unless told otherwise.
 */
function installCollector(server: FastifyInstance, store: TraceStore | undefined): void {
  if (store === undefined) return;
  server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_req, _payload, done) => done(null, undefined));
    scope.post(COLLECTOR_PATH, async (req, reply) => {
      reply.hijack();
      receiveOtlpJson(req.raw, reply.raw, store);
    });
  });
}
