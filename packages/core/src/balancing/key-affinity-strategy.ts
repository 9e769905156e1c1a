/** @module Key affinity: rendezvous (highest random weight) hashing keeps a key on one instance. */
import type { InstanceInfo } from "../registry/registry.js";
import { RoundRobinStrategy } from "./round-robin-strategy.js";
import type { PickContext, Strategy } from "./strategy.js";

/**
 * Each (key, instance) pair gets a pseudo-random score and the key goes to the highest. A key stays
 * put while its instance stays; when an instance joins it wins ~1/n of the keys, and when one leaves
 * only its own keys move. O(n) per pick with no ring to rebuild, which suits the handful of
 * instances a service runs. Calls without a key go round robin.
 */
export class KeyAffinityStrategy implements Strategy {
  readonly name = "key-affinity";
  private readonly fallback = new RoundRobinStrategy();

  pick(candidates: readonly InstanceInfo[], call: PickContext): InstanceInfo | undefined {
    if (call.key === undefined) return this.fallback.pick(candidates);
    const seed = fnv1a("\u0000", fnv1a(call.key, FNV_OFFSET));
    let best: InstanceInfo | undefined;
    let bestScore = -1;
    for (const candidate of candidates) {
      const score = fmix32(fnv1a(candidate.instance, seed));
      if (score > bestScore || (score === bestScore && best !== undefined && candidate.instance < best.instance)) {
        best = candidate;
        bestScore = score;
      }
    }
    return best;
  }
}

const FNV_OFFSET = 0x811c9dc5;

function fnv1a(text: string, hash: number): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finalizer: FNV alone mixes its last characters poorly, and instance ids differ at the end. */
function fmix32(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
