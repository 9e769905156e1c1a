/** @module Client-side load balancing: a `call` middleware that picks an instance from the registry. */
import { FlotillaCodes, FlotillaError } from "../errors.js";
import type { Middleware, OutboundCall } from "../middleware.js";
import type { InstanceInfo, Registry } from "../registry/registry.js";
import { isInstanceFailure } from "./instance-failure.js";
import { resolveStrategy, type StrategyFactory, type StrategySpec } from "./resolve-strategy.js";
import type { Strategy } from "./strategy.js";

export interface LoadBalancingOptions {
  registry: Registry;
  /** The default strategy ("round-robin"). */
  strategy?: StrategySpec;
  /** Per-service strategies; a call's `strategy` option still wins. */
  services?: Record<string, StrategySpec>;
  /** Strategies beyond the built-ins, by name (usable from `services` and call options). */
  strategies?: Record<string, StrategyFactory>;
  /**
   * Instances to skip while others remain, e.g. `breakers.rejects` from @flotilla/resilience (open
   * circuits). When every candidate would be skipped, all stay eligible and the caller's own guard
   * (the breaker) decides.
   */
  avoid?: (service: string, instance: string) => boolean;
}

/**
 * Sets `call.instance` to a ready instance of `call.ref.service` that serves `call.ref.fqn`, chosen by
 * `call.strategy` ?? the service's strategy ?? the default, and feeds each outcome back to the strategy.
 *
 * - A call with `versions` goes to the ready instances of the first version prefix that has any (all
 *   ready instances when none has): a version split never fails a call that another version could serve.
 * - A call that already names an instance (pinned by the caller or by an outer middleware) passes as is.
 * - When the registry knows no ready instance, the call goes out with no instance and the transport's
 *   queue group balances it: a registry that lags or is down never blocks calls that could succeed.
 * - A chosen instance that received nothing (`FLOTILLA_NO_INSTANCE`: it left since the registry was read)
 *   gets the call sent once more, without an instance, to the transport's queue group.
 * - The middleware restores `call.instance` after each attempt, so an outer retry balances afresh; on a
 *   retry it prefers instances this call has not failed on yet.
 */
export function loadBalancing(options: LoadBalancingOptions): Middleware {
  const { registry, avoid } = options;
  const defaultSpec = options.strategy ?? "round-robin";
  const strategies = new Map<string, Strategy>();
  const ready = readyCandidates();
  const versioned = versionCandidates();
  const failedOn = new WeakMap<OutboundCall, Set<string>>();

  function strategyFor(call: OutboundCall): Strategy {
    const service = call.ref.service;
    const spec = call.strategy ?? options.services?.[service] ?? defaultSpec;
    if (typeof spec !== "string") return spec;
    const cacheKey = `${service}\u0000${spec}`;
    let strategy = strategies.get(cacheKey);
    if (strategy === undefined) {
      strategy = resolveStrategy(spec, options.strategies);
      strategies.set(cacheKey, strategy);
    }
    return strategy;
  }

  function candidates(call: OutboundCall): readonly InstanceInfo[] {
    const service = call.ref.service;
    let pool = ready(registry.instances(service), call.ref.fqn);
    if (call.versions !== undefined && call.versions.length > 0) pool = versioned(pool, call.versions);
    if (avoid !== undefined) pool = preferring(pool, (i) => !avoid(service, i.instance));
    const failed = failedOn.get(call);
    if (failed !== undefined) pool = preferring(pool, (i) => !failed.has(i.instance));
    return pool;
  }

  return {
    name: "load-balancing",
    async call(call, next) {
      if (call.instance !== undefined) return next();
      const pool = candidates(call);
      if (pool.length === 0) return next();
      const strategy = strategyFor(call);
      const picked = strategy.pick(pool, call);
      if (picked === undefined) return next();
      call.instance = picked.instance;
      strategy.onStart?.(picked);
      const started = performance.now();
      try {
        const output = await next();
        strategy.onEnd?.(picked, performance.now() - started, true);
        return output;
      } catch (err) {
        const failed = isInstanceFailure(err);
        strategy.onEnd?.(picked, performance.now() - started, !failed);
        if (failed) {
          const set = failedOn.get(call) ?? new Set();
          set.add(picked.instance);
          failedOn.set(call, set);
        }
        if (FlotillaError.from(err).code !== FlotillaCodes.NO_INSTANCE.code) throw err;
        // The chosen instance received nothing: it left after the registry's view was read (drained by a
        // rolling restart, or dead). Sending again is safe even for an action that is not idempotent:
        // once, to the queue group, which only instances still serving are in.
        delete call.instance;
        return await next();
      } finally {
        delete call.instance;
      }
    },
  };
}

/** The candidates matching `keep`, unless none does: then all of them. */
function preferring(pool: readonly InstanceInfo[], keep: (i: InstanceInfo) => boolean): readonly InstanceInfo[] {
  const kept = pool.filter(keep);
  return kept.length > 0 ? kept : pool;
}

/**
 * Ready instances serving an action, memoized on the registry's list: registries return the same
 * array until something changes, so the filter runs once per change rather than once per call.
 */
function readyCandidates(): (list: readonly InstanceInfo[], fqn: string) => readonly InstanceInfo[] {
  const memo = new WeakMap<readonly InstanceInfo[], Map<string, readonly InstanceInfo[]>>();
  return (list, fqn) => {
    let byAction = memo.get(list);
    if (byAction === undefined) {
      byAction = new Map();
      memo.set(list, byAction);
    }
    let ready = byAction.get(fqn);
    if (ready === undefined) {
      ready = list.filter((i) => i.ready && i.actions.includes(fqn));
      byAction.set(fqn, ready);
    }
    return ready;
  };
}

/** Whether a contract version falls under a prefix: "2" and "2.1" match 2.1.0; "2" does not match 20.0.0. */
export function matchesVersion(version: string, prefix: string): boolean {
  return version === prefix || (version.startsWith(prefix) && version.charCodeAt(prefix.length) === 46);
}

/**
 * The candidates of the first version prefix that has any, memoized like `readyCandidates`: per candidate
 * list (the same array until the registry changes) and per list of prefixes.
 */
function versionCandidates(): (pool: readonly InstanceInfo[], versions: readonly string[]) => readonly InstanceInfo[] {
  const memo = new WeakMap<readonly InstanceInfo[], Map<string, readonly InstanceInfo[]>>();
  return (pool, versions) => {
    let byVersions = memo.get(pool);
    if (byVersions === undefined) {
      byVersions = new Map();
      memo.set(pool, byVersions);
    }
    const key = versions.length === 1 ? (versions[0] as string) : versions.join("\u0000");
    let chosen = byVersions.get(key);
    if (chosen === undefined) {
      chosen = pool;
      for (const prefix of versions) {
        const matching = pool.filter((i) => matchesVersion(i.version, prefix));
        if (matching.length > 0) {
          chosen = matching;
          break;
        }
      }
      byVersions.set(key, chosen);
    }
    return chosen;
  };
}
