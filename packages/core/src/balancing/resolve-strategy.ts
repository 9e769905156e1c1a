/** @module Resolves a load-balancing strategy by name, or passes a strategy object through. */
import { FlotillaCodes, FlotillaError } from "../errors.js";
import { KeyAffinityStrategy } from "./key-affinity-strategy.js";
import { LatencyAwareStrategy } from "./latency-aware-strategy.js";
import { LeastInFlightStrategy } from "./least-in-flight-strategy.js";
import { RandomStrategy } from "./random-strategy.js";
import { RoundRobinStrategy } from "./round-robin-strategy.js";
import type { Strategy } from "./strategy.js";

export type StrategyFactory = () => Strategy;

/** A strategy name (a fresh instance per service) or a strategy object (used as given). */
export type StrategySpec = string | Strategy;

export const builtinStrategies: Readonly<Record<string, StrategyFactory>> = Object.freeze({
  "round-robin": () => new RoundRobinStrategy(),
  random: () => new RandomStrategy(),
  "least-in-flight": () => new LeastInFlightStrategy(),
  "latency-aware": () => new LatencyAwareStrategy(),
  "key-affinity": () => new KeyAffinityStrategy(),
});

/** Builds a strategy by name from the built-ins plus `factories` (which may override them). */
export function resolveStrategy(spec: StrategySpec, factories: Record<string, StrategyFactory> = {}): Strategy {
  if (typeof spec !== "string") return spec;
  const factory = factories[spec] ?? builtinStrategies[spec];
  if (factory === undefined) {
    const known = [...new Set([...Object.keys(builtinStrategies), ...Object.keys(factories)])].join(", ");
    throw FlotillaError.of(FlotillaCodes.CONFIG, `no load-balancing strategy "${spec}" (known: ${known})`);
  }
  return factory();
}
