/**
 * @module Services that deploy together: instances of different services that start within a short window
 * of each other, again and again. Read from the registry's instances as they come and go (their
 * `startedAt`): only what the registry showed while the dashboard ran is known.
 */
import type { Registry } from "@flotilla/core";
import type { Finding } from "./fitness-findings.js";
import { push } from "./observed-edges.js";

/** One instance start, as the registry showed it. */
export interface InstanceStart {
  readonly service: string;
  readonly instance: string;
  /** Epoch milliseconds. */
  readonly startedAtMs: number;
}

/** Starts within this long of the one before belong to one deploy (60 s). */
export const DEPLOY_WINDOW_MS = 60_000;

/**
 * Pairs of services that started together (in one deploy moment) on at least `occasions` moments (2): a
 * sign that they cannot change alone.
 */
export function deployedTogether(
  starts: readonly InstanceStart[],
  options: { windowMs?: number; occasions?: number } = {},
): Finding[] {
  const windowMs = options.windowMs ?? DEPLOY_WINDOW_MS;
  const needed = options.occasions ?? 2;
  const sorted = [...starts].sort((a, b) => a.startedAtMs - b.startedAtMs);
  // Deploy moments: runs of starts each within the window of the previous one.
  const moments: InstanceStart[][] = [];
  for (const start of sorted) {
    const last = moments.at(-1);
    const previous = last?.at(-1);
    if (last !== undefined && previous !== undefined && start.startedAtMs - previous.startedAtMs <= windowMs)
      last.push(start);
    else moments.push([start]);
  }
  const pairs = new Map<string, string[]>();
  for (const moment of moments) {
    const services = [...new Set(moment.map((s) => s.service))].sort();
    const at = new Date(moment[0]?.startedAtMs ?? 0).toISOString();
    for (let i = 0; i < services.length; i++) {
      for (let j = i + 1; j < services.length; j++) {
        const key = `${services[i]}\u0000${services[j]}`;
        push(pairs, key, at);
      }
    }
  }
  return [...pairs.entries()]
    .filter(([, occasions]) => occasions.length >= needed)
    .map(([key, occasions]) => {
      const [a = "", b = ""] = key.split("\u0000");
      return {
        kind: "deploy-together",
        services: [a, b],
        text: `${a} and ${b} started within ${Math.round(windowMs / 1000)} s of each other ${occasions.length} times: they may not be deployable alone.`,
        count: occasions.length,
        traces: [],
        occasions: occasions.slice(-5).reverse(),
      } satisfies Finding;
    });
}

/** The most starts kept: the newest. */
const MAX_STARTS = 2_000;

/** Remembers each instance the registry shows, from when it is made until `stop()`. */
export class StartHistory {
  private readonly starts = new Map<string, InstanceStart>();
  private readonly unwatch: () => void;

  constructor(
    private readonly registry: Registry,
    private readonly services: () => readonly string[],
  ) {
    this.unwatch = registry.watch((service) => this.note(service));
    for (const service of services()) this.note(service);
  }

  /** Every start seen so far (reading the registry again first). */
  list(): InstanceStart[] {
    for (const service of this.services()) this.note(service);
    return [...this.starts.values()];
  }

  stop(): void {
    this.unwatch();
  }

  private note(service: string): void {
    for (const info of this.registry.instances(service)) {
      if (this.starts.has(info.instance)) continue;
      const startedAtMs = Date.parse(info.startedAt);
      if (Number.isNaN(startedAtMs)) continue;
      this.starts.set(info.instance, { service, instance: info.instance, startedAtMs });
      if (this.starts.size > MAX_STARTS) {
        const oldest = [...this.starts.values()].sort((a, b) => a.startedAtMs - b.startedAtMs)[0];
        if (oldest !== undefined) this.starts.delete(oldest.instance);
      }
    }
  }
}
