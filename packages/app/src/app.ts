/** @module An app: the services of one system and, optionally, the gateway routes in front of them. */
import type { EdgeSigner } from "@flotilla/auth";
import {
  type ActionRef,
  FlotillaCodes,
  FlotillaError,
  type Host,
  type Middleware,
  type ServiceDefinition,
} from "@flotilla/core";
import type {
  GatewayCacheOptions,
  GrpcOptions,
  LiveOptions,
  Policy,
  ProxyRoute,
  Route,
  Split,
  UpstreamOptions,
} from "@flotilla/gateway";
import { type DeploymentUnit, deploymentUnits } from "./units.js";

/** What an app's gateway policies are built from where the gateway runs. */
export interface GatewayEnvironment {
  /** The gateway's host: its calls reach the app's services (e.g. an identity service's keys). */
  readonly host: Host;
  /** Signs the caller each authenticated request carries to the services (see docs/security.md). */
  readonly edge: EdgeSigner;
}

export interface FlotillaApp {
  readonly name: string;
  /** The version of the app's public API, shown in its OpenAPI document (`GET /openapi.json`); default 1.0.0. */
  readonly version?: string;
  /** One or two sentences on the app, for its OpenAPI document. */
  readonly description?: string;
  readonly services: readonly ServiceDefinition[];
  readonly gateway?: {
    readonly routes: readonly Route[];
    /** Policies for every route (authentication, rate limits, …), or a function building them where the gateway runs. */
    readonly policies?: readonly Policy[] | ((env: GatewayEnvironment) => readonly Policy[]);
    /**
     * Actions the gateway calls beyond its routes' (its policies': e.g. an identity service's keys):
     * what least-privilege NATS credentials allow it besides the routes (`flotilla nats-config`).
     */
    readonly calls?: readonly ActionRef[];
    /** Live push of events marked for their user (SSE and WebSocket); see docs/live.md. */
    readonly live?: LiveOptions;
    /**
     * The gRPC face of the routes (docs/grpc.md): its proto package (default `flotilla.<name>.v1`) and the
     * committed `.proto` whose field numbers it serves. Served when runApp is given a `grpcPort`.
     */
    readonly grpc?: Pick<GrpcOptions, "package" | "protoFile">;
    /** The response cache of routes that declare `cache`: its bytes (64 MiB by default); see docs/caching.md. */
    readonly cache?: Omit<GatewayCacheOptions, "metrics">;
    /** HTTP services that are not Flotilla services, by name; `FLOTILLA_UPSTREAM_<NAME>` overrides targets (docs/upstreams.md). */
    readonly upstreams?: Readonly<Record<string, UpstreamOptions>>;
    /** Routes the gateway forwards to one of the `upstreams` (`proxy()` of @flotilla/gateway). */
    readonly proxies?: readonly ProxyRoute[];
    /**
     * Traffic splits by name: `versionSplit()` steers calls to a service's versions, `splitRoute()` serves
     * one route by variants; their rules change at run time through `/_flotilla/traffic` (docs/traffic.md).
     */
    readonly splits?: Readonly<Record<string, Split>>;
  };
  /** Middleware every host of this app runs, before what `runApp` adds (metrics, retries, balancing). */
  readonly middleware?: readonly Middleware[];
  /**
   * Deployment units by name: which services share a process, how many instances run and how they scale
   * (`flotilla up`, `flotilla start --unit`, `flotilla deploy k8s`). Default: a unit per service and one
   * for the gateway. See docs/deployment.md.
   */
  readonly units?: Readonly<Record<string, DeploymentUnit>>;
}

/**
 * Declares an app. `runApp(app, options)` runs it from any program; the `flotilla` command loads a
 * module whose default export (or `app` export) is one.
 */
export function defineApp(app: FlotillaApp): FlotillaApp {
  const names = new Set<string>();
  for (const service of app.services) {
    if (names.has(service.name)) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `${app.name}: service ${service.name} is listed twice`);
    }
    names.add(service.name);
  }
  if (app.units !== undefined) deploymentUnits(app, "app");
  return Object.freeze(app);
}
