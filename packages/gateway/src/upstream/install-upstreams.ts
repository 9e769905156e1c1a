/** @module The gateway's upstreams and proxy routes, made from its options: one place for gateway.ts to call. */
import type { FastifyInstance } from "fastify";
import type { HandlerDeps } from "../route-handler.js";
import { installProxies } from "./proxy-handler.js";
import type { ProxyRoute } from "./proxy-route.js";
import { Upstream } from "./upstream.js";
import type { ForwardDeps } from "./upstream-forward.js";
import type { UpstreamMetrics } from "./upstream-metrics.js";
import { resolveUpstream, type UpstreamOptions } from "./upstream-options.js";

/** The gateway's options for HTTP upstreams (see docs/upstreams.md). */
export interface UpstreamGatewayOptions {
  /** HTTP services that are not Flotilla services, by name; proxy routes name one. */
  upstreams?: Readonly<Record<string, UpstreamOptions>>;
  /** Routes forwarded to an upstream, beside the routes to actions. */
  proxies?: readonly ProxyRoute[];
  /** Records each attempt on an upstream and reads targets' health; `upstreamMetrics()` of @flotilla/telemetry makes one. */
  upstreamMetrics?: UpstreamMetrics;
}

export interface InstalledUpstreams {
  /** The upstreams by name (traffic splits with proxy variants forward through them). */
  readonly byName: ReadonlyMap<string, Upstream>;
  /** Starts the active health checks. */
  start(): void;
  /** Stops them and closes every upstream connection. */
  close(): Promise<void>;
}

/** Checks the upstreams (FLOTILLA_CONFIG on a bad one), opens their pools and registers the proxy routes. */
export function installUpstreams(
  app: FastifyInstance,
  options: UpstreamGatewayOptions,
  deps: HandlerDeps & Omit<ForwardDeps, "metrics">,
): InstalledUpstreams {
  const upstreams = new Map<string, Upstream>();
  for (const [name, given] of Object.entries(options.upstreams ?? {})) {
    upstreams.set(name, new Upstream(resolveUpstream(name, given), deps.log));
  }
  const metrics = options.upstreamMetrics;
  metrics?.watch(() => [...upstreams.values()].flatMap((u) => u.snapshot()));
  if (options.proxies !== undefined && options.proxies.length > 0) {
    installProxies(app, options.proxies, upstreams, { ...deps, metrics });
  }
  return {
    byName: upstreams,
    start: () => {
      for (const u of upstreams.values()) u.start();
    },
    close: async () => {
      await Promise.all([...upstreams.values()].map((u) => u.close()));
    },
  };
}
