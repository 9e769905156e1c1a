/** @module Round robin: each instance in turn. */
import type { InstanceInfo } from "../registry/registry.js";
import type { Strategy } from "./strategy.js";

export class RoundRobinStrategy implements Strategy {
  readonly name = "round-robin";
  private cursor = 0;

  pick(candidates: readonly InstanceInfo[]): InstanceInfo | undefined {
    if (candidates.length === 0) return undefined;
    const picked = candidates[this.cursor % candidates.length];
    this.cursor = (this.cursor + 1) % 0x7fffffff;
    return picked;
  }
}
