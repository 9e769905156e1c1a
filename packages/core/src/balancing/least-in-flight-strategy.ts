/** @module Least in flight: the instance this caller has the fewest calls open with. */
import type { InstanceInfo } from "../registry/registry.js";
import type { Random, Strategy } from "./strategy.js";

/**
 * Counts this balancer's own open calls per instance, which are exact and current. The load an
 * instance reports to the registry covers every caller but is a heartbeat old, so it only breaks
 * ties; remaining ties go to a random one of them, so equal instances share the traffic.
 */
export class LeastInFlightStrategy implements Strategy {
  readonly name = "least-in-flight";
  private readonly open = new Map<string, number>();

  constructor(private readonly random: Random = Math.random) {}

  pick(candidates: readonly InstanceInfo[]): InstanceInfo | undefined {
    let best: InstanceInfo | undefined;
    let bestOwn = Number.POSITIVE_INFINITY;
    let bestReported = Number.POSITIVE_INFINITY;
    let ties = 0;
    for (const candidate of candidates) {
      const own = this.open.get(candidate.instance) ?? 0;
      const reported = candidate.load.inFlight;
      if (own < bestOwn || (own === bestOwn && reported < bestReported)) {
        best = candidate;
        bestOwn = own;
        bestReported = reported;
        ties = 1;
      } else if (own === bestOwn && reported === bestReported && this.random() * ++ties < 1) {
        // Reservoir sampling: each of the tied candidates ends up chosen with probability 1/ties.
        best = candidate;
      }
    }
    return best;
  }

  onStart(instance: InstanceInfo): void {
    this.open.set(instance.instance, (this.open.get(instance.instance) ?? 0) + 1);
  }

  onEnd(instance: InstanceInfo): void {
    const n = (this.open.get(instance.instance) ?? 1) - 1;
    if (n > 0) this.open.set(instance.instance, n);
    else this.open.delete(instance.instance);
  }

  /** Calls this balancer has open with an instance. */
  inFlight(instance: string): number {
    return this.open.get(instance) ?? 0;
  }
}
