/** @module The shared state behind in-process registry views: entries stamped when last heard from, expired by TTL. */
import type { InstanceInfo } from "./registry.js";

interface Entry {
  readonly info: InstanceInfo;
  /** What watchers compare, so a heartbeat that changes nothing notifies nobody. */
  readonly state: string;
  /** The registration that wrote it: a stale registration cannot remove its successor. */
  readonly owner: object;
  seenAt: number;
}

const NO_INSTANCES: readonly InstanceInfo[] = Object.freeze([]);

/**
 * What a KV bucket is to the NATS registry: every view reads and writes here. Lists are rebuilt on
 * change only, so `list()` returns the same array until something changes (callers may memoize on it).
 */
export class MemoryRegistryStore {
  private readonly services = new Map<string, Map<string, Entry>>();
  private readonly lists = new Map<string, readonly InstanceInfo[]>();
  private readonly listeners = new Set<(service: string) => void>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly heartbeatMs: number,
    readonly ttlMs: number,
  ) {}

  put(info: InstanceInfo, owner: object): void {
    let entries = this.services.get(info.service);
    if (entries === undefined) {
      entries = new Map();
      this.services.set(info.service, entries);
    }
    const state = JSON.stringify(info);
    const previous = entries.get(info.instance);
    if (previous !== undefined && previous.owner === owner && previous.state === state) {
      previous.seenAt = Date.now();
      return;
    }
    entries.set(info.instance, { info: freeze(info), state, owner, seenAt: Date.now() });
    this.changed(info.service);
    this.sweeper ??= this.startSweeper();
  }

  remove(service: string, instance: string, owner: object): void {
    const entries = this.services.get(service);
    if (entries?.get(instance)?.owner !== owner) return;
    entries.delete(instance);
    this.changed(service);
  }

  list(service: string): readonly InstanceInfo[] {
    let list = this.lists.get(service);
    if (list === undefined) {
      const entries = this.services.get(service);
      if (entries === undefined || entries.size === 0) return NO_INSTANCES;
      list = Object.freeze([...entries.values()].map((e) => e.info).sort(byInstance));
      this.lists.set(service, list);
    }
    return list;
  }

  listen(listener: (service: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Removes every entry not heard from within the TTL. */
  sweep(now = Date.now()): void {
    for (const [service, entries] of this.services) {
      let removed = false;
      for (const [instance, entry] of entries) {
        if (now - entry.seenAt > this.ttlMs) {
          entries.delete(instance);
          removed = true;
        }
      }
      if (entries.size === 0) this.services.delete(service);
      if (removed) this.changed(service);
    }
    if (this.services.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private startSweeper(): NodeJS.Timeout {
    // Sweeping once per heartbeat bounds how long a dead instance lingers: at most ttl + one heartbeat.
    const timer = setInterval(() => this.sweep(), this.heartbeatMs);
    timer.unref();
    return timer;
  }

  private changed(service: string): void {
    this.lists.delete(service);
    for (const listener of this.listeners) {
      // Listeners run after the change completes and apart from each other, as a KV watch would call them.
      queueMicrotask(() => listener(service));
    }
  }
}

function freeze(info: InstanceInfo): InstanceInfo {
  return Object.freeze({
    ...info,
    actions: Object.freeze([...info.actions]),
    events: Object.freeze([...info.events]),
    load: Object.freeze({ ...info.load }),
  });
}

function byInstance(a: InstanceInfo, b: InstanceInfo): number {
  return a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0;
}
