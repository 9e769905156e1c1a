/** @module Wires traffic splits into a gateway: the engine, the control events, split routes and admin routes. */
import { FlotillaCodes, FlotillaError, type Host } from "@flotilla/core";
import type { TrafficMetrics } from "@flotilla/telemetry";
import type { Tracer } from "@opentelemetry/api";
import type { FastifyInstance } from "fastify";
import type { Policy } from "../policy.js";
import type { Route } from "../route.js";
import type { CallSteering, HandlerDeps } from "../route-handler.js";
import type { ProxyRoute } from "../upstream/proxy-route.js";
import type { Upstream } from "../upstream/upstream.js";
import type { ForwardDeps } from "../upstream/upstream-forward.js";
import { Shadowing } from "./shadowing.js";
import { installSplitRoutes } from "./split-handler.js";
import type { Split, SplitRoute } from "./splits.js";
import { installTrafficAdmin, TRAFFIC_ADMIN } from "./traffic-admin.js";
import { TrafficEngine } from "./traffic-engine.js";
import { TrafficState } from "./traffic-state.js";
import { TrafficSync } from "./traffic-sync.js";

/** The gateway's options for traffic splits (see docs/traffic.md). */
export interface TrafficGatewayOptions {
  /** Splits by name: `versionSplit()` steers a service's calls between versions, `splitRoute()` serves one route by variants. */
  splits?: Readonly<Record<string, Split>>;
  traffic?: TrafficOptions;
}

export interface TrafficOptions {
  /** Records choices and comparisons; `trafficMetrics()` of @flotilla/telemetry makes one. */
  metrics?: TrafficMetrics;
  /** Who may use `/_flotilla/traffic`, after the global policies: an authenticated admin by default. */
  adminPolicies?: readonly Policy[];
  /** Shadow calls running at once on this gateway; more are dropped and counted (16). */
  maxShadowInFlight?: number;
  /** Differences each comparison report keeps, newest first (20). */
  keepDifferences?: number;
}

export interface InstalledTraffic {
  /** Steers calls to version-split services; undefined when no version split is declared. */
  readonly steer: CallSteering | undefined;
  /** Registers the split routes, once the upstreams they may forward to exist. */
  installRoutes(upstreams: ReadonlyMap<string, Upstream>, deps: HandlerDeps & ForwardDeps): void;
}

/**
 * Checks the splits (FLOTILLA_CONFIG on a bad one), makes the engine, and registers the admin routes and
 * the control-event subscription, which takes the latest rules before the gateway serves. Nothing when no
 * split is declared.
 */
export function installTraffic(
  app: FastifyInstance,
  options: TrafficGatewayOptions & { routes: readonly Route[]; proxies?: readonly ProxyRoute[]; tracer?: Tracer },
  host: Host,
  log: Host["log"],
): InstalledTraffic | undefined {
  const splits = options.splits ?? {};
  if (Object.keys(splits).length === 0) return undefined;
  const routeSplits = checkSplits(splits, options.routes, options.proxies ?? []);
  const settings = options.traffic ?? {};
  const state = new TrafficState(splits, log);
  const engine = new TrafficEngine(state, settings.metrics, settings.keepDifferences ?? 20);
  const sync = new TrafficSync(host, state, log);
  app.addHook("onReady", async () => sync.start());
  app.addHook("preClose", async () => sync.close());
  const shadowing = new Shadowing(engine, settings.maxShadowInFlight ?? 16, options.tracer, log);
  const hasVersions = Object.values(splits).some((s) => s.kind === "version");
  const steer: CallSteering | undefined = hasVersions ? (service, ex) => engine.versionsFor(service, ex) : undefined;
  return {
    steer,
    installRoutes: (upstreams, deps) => {
      installTrafficAdmin(app, engine, sync, host.id, deps, settings.adminPolicies ?? TRAFFIC_ADMIN);
      installSplitRoutes(app, routeSplits, { ...deps, steer, upstreams, engine, shadowing });
    },
  };
}

function checkSplits(
  splits: Readonly<Record<string, Split>>,
  routes: readonly Route[],
  proxies: readonly ProxyRoute[],
): SplitRoute[] {
  const fail = (message: string) => FlotillaError.of(FlotillaCodes.CONFIG, message);
  const taken = new Set([
    ...routes.map((r) => `${r.method} ${r.path}`),
    ...proxies.flatMap((p) => p.methods.map((m) => `${m} ${p.path}`)),
  ]);
  const services = new Set<string>();
  const routeSplits: SplitRoute[] = [];
  for (const [name, split] of Object.entries(splits)) {
    if (split.kind === "version") {
      if (services.has(split.service)) throw fail(`splits: two version splits of service ${split.service}`);
      services.add(split.service);
      continue;
    }
    if (split.name !== name) throw fail(`splits: the split route named ${split.name} is listed as ${name}`);
    const key = `${split.method} ${split.path}`;
    if (taken.has(key)) throw fail(`split ${name}: ${key} is also a route or a proxy; a split route replaces it`);
    taken.add(key);
    routeSplits.push(split);
  }
  return routeSplits;
}
