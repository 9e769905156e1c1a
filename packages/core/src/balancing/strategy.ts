/** @module The load-balancing strategy interface: pick one instance among candidates, learn from outcomes. */
import type { InstanceInfo } from "../registry/registry.js";

/** What a strategy may read from the call it balances (an `OutboundCall` satisfies it). */
export interface PickContext {
  /** Affinity key from the call options. */
  readonly key?: string | undefined;
}

/**
 * One strategy object balances one service (the middleware makes one per service and strategy name),
 * so state such as a round-robin cursor or latency averages is per service without being keyed by it.
 */
export interface Strategy {
  readonly name: string;
  /** One of `candidates` (ready instances serving the action), or undefined to let the transport balance. */
  pick(candidates: readonly InstanceInfo[], call: PickContext): InstanceInfo | undefined;
  /** A call to `instance` is starting. */
  onStart?(instance: InstanceInfo): void;
  /** That call ended; `ok` is false when the outcome says the instance is unhealthy (not for domain errors). */
  onEnd?(instance: InstanceInfo, latencyMs: number, ok: boolean): void;
}

/** Randomness as strategies take it, injectable so tests can be deterministic. */
export type Random = () => number;
