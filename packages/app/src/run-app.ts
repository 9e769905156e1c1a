/** @module Runs a chosen set of an app's services (and optionally its gateway) over a chosen transport. */
import { hostname } from "node:os";
import { edgeSigner, edgeVerifier } from "@flotilla/auth";
import {
  createHost,
  FlotillaCodes,
  FlotillaError,
  type Host,
  type Logger,
  type LogLevels,
  loadBalancing,
  type Middleware,
  type Registry,
  resolveRegistry,
  resolveTransport,
} from "@flotilla/core";
import { databaseProviderFromEnv } from "@flotilla/data";
import { dataDirFrom, sqliteDialect } from "@flotilla/data/internal";
import {
  createGateway,
  type Gateway,
  type GatewayDashboardOptions,
  type GrpcOptions,
  upstreamsFromEnv,
} from "@flotilla/gateway";
import { natsRegistry } from "@flotilla/nats";
import { circuitBreakers, retries } from "@flotilla/resilience";
import {
  cacheMetrics,
  compositeMetrics,
  httpMetrics,
  liveMetrics,
  metrics,
  type TraceRecorder,
  tlsReloadMetrics,
  traceMetrics,
  tracing,
  trafficMetrics,
  upstreamMetrics,
} from "@flotilla/telemetry";
import type { FlotillaApp } from "./app.js";
import { appProtoPackage } from "./app-proto.js";
import { appTracing, type TracingSettings } from "./app-tracing.js";
import { appTransports } from "./app-transports.js";
import { type AppDashboard, openAppDashboard } from "./dashboard/app-dashboard.js";
import { checkDatabases } from "./database-check.js";
import { edgeKeysPath, openEdgeKeys } from "./edge-keys.js";
import { operationalGauges } from "./operational-gauges.js";
import { type OpsServer, startOpsServer } from "./ops-server.js";
import { sagaReaders } from "./saga-readers.js";

export interface RunOptions {
  /** Service names to run here; all of the app's by default. An empty list runs none (a gateway alone). */
  services?: readonly string[];
  /**
   * `memory://` (default: wire-faithful in-process) or `nats://host:port`. In-process, events are kept
   * in an event journal in the data directory (`flotilla.events.sqlite`), so a killed process loses
   * none; `memory://?journal=off` keeps them in memory only.
   */
  transport?: string;
  /** Serve the app's gateway on this port (0 picks one); absent: no gateway. */
  gatewayPort?: number;
  /**
   * Serve the gateway's routes over gRPC too, on this port (0 picks one); needs `gatewayPort`. Default:
   * FLOTILLA_GRPC_PORT; absent: no gRPC. See docs/grpc.md.
   */
  grpcPort?: number;
  /** Interface the gateway and the ops port listen on (default `localhost`). */
  listenHost?: string;
  /** Serve /livez, /readyz and /metrics on this port (0 picks one); absent: none. */
  opsPort?: number;
  dataDir?: string;
  /**
   * Service discovery, as a registry or its URL (`memory://`, `nats://host:4222?bucket=…`); with one,
   * calls are balanced client-side over its ready instances. A registry made from a URL is closed on stop.
   */
  registry?: Registry | string;
  /**
   * The JWKS file of Ed25519 keys the gateway signs callers with and services verify them with; every
   * process of one system must use the same. Default: FLOTILLA_EDGE_KEYS, else `<dataDir>/edge-keys.json`
   * (created on first start).
   */
  edgeKeys?: string;
  logger?: Logger;
  /**
   * Tracing, on by default: spans of every hop into an embedded store, exported over OTLP as the
   * `OTEL_*` variables say. `false` records none. See docs/observability.md.
   */
  tracing?: false | TracingSettings;
  /**
   * Serve the gateway over TLS (HTTP/2, HTTP/1.1 by ALPN) with this PEM certificate and key, reloaded when
   * the files change. Default: FLOTILLA_TLS_CERT and FLOTILLA_TLS_KEY (both or neither); absent: plain HTTP.
   */
  tls?: { certFile: string; keyFile: string };
  /** Levels of single services' lines, e.g. `{ orders: "debug" }` (see HostOptions.logLevels). */
  logLevels?: LogLevels;
  /**
   * On stop, the gateway keeps serving this long with each answer closing its connection and `/readyz`
   * at 503, before it refuses requests (GatewayOptions.drainMs). Default: FLOTILLA_DRAIN_MS, else 0.
   */
  drainMs?: number;
  /**
   * Serve the web dashboard at `/_flotilla` on the gateway (its API admin-only unless `policies` says
   * otherwise), showing the instances of the registry when there is one. See docs/dashboard.md.
   */
  dashboard?: Omit<GatewayDashboardOptions, "registry">;
}

export interface RunningApp {
  readonly host: Host;
  readonly gateway: Gateway | undefined;
  /** The gateway's URL, when it runs. */
  readonly url: string | undefined;
  readonly ops: OpsServer | undefined;
  /** This process's spans: its tracer and embedded store; undefined with `tracing: false`. */
  readonly traces: TraceRecorder | undefined;
  /** Stops the gateway (finishing requests in flight), then the services, then the ops port. */
  stop(): Promise<void>;
}

export async function runApp(app: FlotillaApp, options: RunOptions = {}): Promise<RunningApp> {
  const services = pickServices(app, options.services);
  const telemetry = metrics();
  const registry =
    typeof options.registry === "string" ? resolveRegistry(options.registry, { nats: natsRegistry }) : options.registry;
  const ownsRegistry = typeof options.registry === "string";
  const dataDir = dataDirFrom(options.dataDir);
  // Resolved here rather than by the host, so a bad URL fails before anything is opened.
  const transport = resolveTransport(options.transport ?? "memory://?faithful=1", appTransports(dataDir));
  // Each service's database: FLOTILLA_DB_<SERVICE> or FLOTILLA_DB (e.g. postgres://…), else a SQLite file.
  const databases = databaseProviderFromEnv({ fallback: sqliteDialect({ dataDir }) });
  const edgeKeys = await openEdgeKeys(edgeKeysPath(dataDir, options.edgeKeys));
  const traces =
    options.tracing === false
      ? undefined
      : appTracing(options.tracing ?? {}, {
          app: app.name,
          gateway: options.gatewayPort !== undefined,
          dataDir,
          // Failed exports are reported once spans exist, so after the host (and its logger) is made.
          log: { warn: (obj, msg) => host.log.warn(obj, msg) },
        });
  const tracer = traces?.tracer;
  // Tracing first: every other middleware, and the logs they write, see the span as current.
  const middleware = [
    ...(tracer ? [tracing({ tracer })] : []),
    ...(app.middleware ?? []),
    telemetry,
    ...resilience(registry),
  ];
  const listenHost = options.listenHost ?? "localhost";
  // The ops port opens before the host starts, so every instance registers with its address; until the
  // host runs, /readyz answers 503 and /sagas finds no saga attached.
  const target: { host?: Host } = {};
  let ops: OpsServer | undefined;
  if (options.opsPort !== undefined) {
    try {
      ops = await startOpsServer(
        { isReady: async () => (await target.host?.isReady()) ?? false },
        telemetry,
        { port: options.opsPort, host: listenHost },
        {
          ...(traces?.store ? { traces: traces.store } : {}),
          sagas: () => (target.host === undefined ? [] : sagaReaders(target.host)),
        },
      );
    } catch (err) {
      if (ownsRegistry) await registry?.close();
      await traces?.close();
      throw err;
    }
  }
  let host: Host;
  try {
    host = createHost({
      callers: edgeVerifier(edgeKeys),
      services,
      transport,
      resources: [databases],
      middleware,
      ...(tracer ? { tracer } : {}),
      ...(registry ? { registry } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.logLevels ? { logLevels: options.logLevels } : {}),
      ...(ops ? { endpoint: advertised(ops.url, listenHost) } : {}),
    });
  } catch (err) {
    await ops?.close();
    if (ownsRegistry) await registry?.close();
    await traces?.close();
    throw err;
  }
  target.host = host;
  operationalGauges(telemetry.registry, { databases, transport, services, middleware });
  if (traces !== undefined) traceMetrics(telemetry.registry, traces);
  // Over NATS, a service's instances must share its database: checked before any is opened.
  let databaseGuard: Awaited<ReturnType<typeof checkDatabases>>;
  try {
    await transport.connect();
    databaseGuard = await checkDatabases(transport, services, { dataDir, tracer });
    await host.start();
  } catch (err) {
    await databaseGuard?.close();
    await transport.close();
    if (ownsRegistry) await registry?.close();
    await ops?.close();
    await traces?.close();
    throw err;
  }
  let gateway: Gateway | undefined;
  let url: string | undefined;
  let dashboard: AppDashboard | undefined;
  try {
    if (options.gatewayPort !== undefined) {
      if (app.gateway === undefined) {
        throw FlotillaError.of(FlotillaCodes.CONFIG, `${app.name} declares no gateway routes`);
      }
      const policies = app.gateway.policies ?? [];
      const env = { host, edge: edgeSigner(edgeKeys) };
      const tls = options.tls ?? tlsFromEnv(process.env);
      if (options.dashboard) {
        dashboard = await openAppDashboard({
          app,
          host,
          registry,
          transportUrl: options.transport ?? "memory://?faithful=1",
          traces: traces?.store,
          metrics: telemetry,
          dataDir,
          tracer,
          log: host.log,
        });
      }
      gateway = createGateway({
        host,
        routes: app.gateway.routes,
        policies: typeof policies === "function" ? policies(env) : policies,
        metrics: httpMetrics(telemetry.registry),
        compositeMetrics: compositeMetrics(telemetry.registry),
        ...(tls ? { tls: { ...tls, onReload: tlsReloadMetrics(telemetry.registry) } } : {}),
        openapi: { title: app.name, version: app.version ?? "1.0.0", description: app.description ?? "" },
        ...(tracer ? { tracer } : {}),
        drainMs: options.drainMs ?? drainMsFromEnv(process.env),
        ...(options.dashboard && dashboard
          ? {
              dashboard: {
                ...options.dashboard,
                ...(registry ? { registry } : {}),
                ...(dashboard.observed ? { observed: dashboard.observed } : {}),
                panels: [...dashboard.panels, ...(options.dashboard.panels ?? [])],
              },
            }
          : {}),
        ...(app.gateway.live ? { live: { metrics: liveMetrics(telemetry.registry), ...app.gateway.live } } : {}),
        ...grpcOption(app, options.grpcPort ?? grpcPortFromEnv(process.env), listenHost),
        // FLOTILLA_GATEWAY_CACHE=off serves cached routes uncached (a benchmark of the uncached path, a suspect cache).
        cache:
          process.env.FLOTILLA_GATEWAY_CACHE?.trim() === "off"
            ? false
            : { metrics: cacheMetrics(telemetry.registry), ...app.gateway.cache },
        ...(app.gateway.upstreams
          ? {
              upstreams: upstreamsFromEnv(app.gateway.upstreams, process.env),
              proxies: app.gateway.proxies ?? [],
              upstreamMetrics: upstreamMetrics(telemetry.registry),
            }
          : {}),
        ...(app.gateway.splits
          ? { splits: app.gateway.splits, traffic: { metrics: trafficMetrics(telemetry.registry) } }
          : {}),
      });
      const address = new URL(await gateway.listen({ port: options.gatewayPort, host: listenHost }));
      // Show the name asked for (localhost), not whichever of its addresses bound first.
      const shown = listenHost === "0.0.0.0" || listenHost === "::" ? "localhost" : listenHost;
      url = `${tls ? "https" : "http"}://${shown.includes(":") ? `[${shown}]` : shown}:${address.port}`;
    }
  } catch (err) {
    await gateway?.close();
    await dashboard?.close();
    await host.stop();
    await databaseGuard?.close();
    await transport.close();
    if (ownsRegistry) await registry?.close();
    await ops?.close();
    await traces?.close();
    throw err;
  }
  return {
    host,
    gateway,
    url,
    ops,
    traces,
    async stop() {
      await gateway?.close();
      await dashboard?.close();
      await host.stop();
      await databaseGuard?.close();
      await transport.close();
      if (ownsRegistry) await registry?.close();
      await ops?.close();
      await traces?.close();
    },
  };
}

/**
 * The ops port's address as other processes reach it: an ops port listening on every interface is
 * registered under this machine's name, which `0.0.0.0` is not.
 */
function advertised(url: string, listenHost: string): string {
  if (listenHost !== "0.0.0.0" && listenHost !== "::") return url;
  const port = new URL(url).port;
  return `http://${hostname()}:${port}`;
}

function tlsFromEnv(env: NodeJS.ProcessEnv): { certFile: string; keyFile: string } | undefined {
  const certFile = env.FLOTILLA_TLS_CERT?.trim();
  const keyFile = env.FLOTILLA_TLS_KEY?.trim();
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, "set both FLOTILLA_TLS_CERT and FLOTILLA_TLS_KEY, or neither");
  }
  return { certFile, keyFile };
}

/**
 * The default call pipeline: retries for idempotent actions on retryable errors; with a registry, the
 * balancer steering around instances whose breaker is open, then per-instance circuit breakers. No
 * breaker without a registry: it would cover the whole service, and a few calls lost with one dead
 * instance would shut out the healthy ones. The order is explained in @flotilla/resilience's README.
 */
function resilience(registry: Registry | undefined): Middleware[] {
  if (registry === undefined) return [retries()];
  const breakers = circuitBreakers();
  return [retries(), loadBalancing({ registry, avoid: breakers.rejects }), breakers];
}

function pickServices(app: FlotillaApp, names: readonly string[] | undefined) {
  if (names === undefined) return app.services;
  const known = new Map(app.services.map((s) => [s.name, s]));
  return names.map((name) => {
    const service = known.get(name);
    if (service === undefined) {
      const list = [...known.keys()].join(", ");
      throw FlotillaError.of(FlotillaCodes.CONFIG, `${app.name} has no service "${name}" (it has: ${list})`);
    }
    return service;
  });
}

/** The gateway's `grpc` option when a port is given: the app's package and committed file. */
function grpcOption(app: FlotillaApp, port: number | undefined, host: string): { grpc?: GrpcOptions } {
  if (port === undefined) return {};
  const protoFile = app.gateway?.grpc?.protoFile;
  return { grpc: { port, host, package: appProtoPackage(app), ...(protoFile === undefined ? {} : { protoFile }) } };
}

/** FLOTILLA_DRAIN_MS, whole milliseconds; FLOTILLA_CONFIG for anything else. */
function drainMsFromEnv(env: NodeJS.ProcessEnv): number {
  const value = env.FLOTILLA_DRAIN_MS?.trim();
  if (value === undefined || value === "") return 0;
  if (!/^\d+$/.test(value)) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `FLOTILLA_DRAIN_MS must be whole milliseconds, got "${value}"`);
  }
  return Number(value);
}

/** FLOTILLA_GRPC_PORT, a port number; FLOTILLA_CONFIG for anything else. */
function grpcPortFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const value = env.FLOTILLA_GRPC_PORT;
  if (value === undefined || value === "") return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `FLOTILLA_GRPC_PORT must be a port number, got "${value}"`);
  }
  return port;
}
