/** @module Uniform random choice: stateless, good enough when every caller sends a little. */
import type { InstanceInfo } from "../registry/registry.js";
import type { Random, Strategy } from "./strategy.js";

export class RandomStrategy implements Strategy {
  readonly name = "random";

  constructor(private readonly random: Random = Math.random) {}

  pick(candidates: readonly InstanceInfo[]): InstanceInfo | undefined {
    return candidates[Math.floor(this.random() * candidates.length)];
  }
}
