/**
 * @module The instances a registry view knows, by service: entries aged by when they were last heard
 * of, expired by TTL, and lists rebuilt on change only (the in-process store and the NATS KV cache).
 */
import type { InstanceInfo } from "./registry.js";

interface Entry {
  readonly info: InstanceInfo;
  /** What change detection compares, so a heartbeat that changes nothing notifies nobody. */
  readonly state: string;
  /** Who wrote it, where that matters (a stale registration must not remove its successor). */
  readonly owner: unknown;
  seenAt: number;
}

const NO_INSTANCES: readonly InstanceInfo[] = Object.freeze([]);

/** `list()` returns the same array until something changes, so callers may memoize on it. */
export class InstanceTable {
  private readonly services = new Map<string, Map<string, Entry>>();
  private readonly lists = new Map<string, readonly InstanceInfo[]>();

  /** `changed` is told of every service whose list changed. */
  constructor(private readonly changed: (service: string) => void) {}

  get isEmpty(): boolean {
    return this.services.size === 0;
  }

  /** Who wrote the entry, if there is one. */
  ownerOf(service: string, instance: string): unknown {
    return this.services.get(service)?.get(instance)?.owner;
  }

  /** Adds or replaces the entry; the same info from the same owner only refreshes when it was seen. */
  put(info: InstanceInfo, seenAt: number, owner?: unknown): void {
    let entries = this.services.get(info.service);
    const state = JSON.stringify(info);
    const previous = entries?.get(info.instance);
    if (previous !== undefined && previous.owner === owner && previous.state === state) {
      previous.seenAt = Math.max(previous.seenAt, seenAt);
      return;
    }
    if (entries === undefined) {
      entries = new Map();
      this.services.set(info.service, entries);
    }
    entries.set(info.instance, { info: freeze(info), state, owner, seenAt });
    this.notify(info.service);
  }

  delete(service: string, instance: string): void {
    const entries = this.services.get(service);
    if (entries === undefined || !entries.delete(instance)) return;
    if (entries.size === 0) this.services.delete(service);
    this.notify(service);
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

  /** Removes every entry not heard of within `ttlMs` before `now`. */
  expire(now: number, ttlMs: number): void {
    for (const [service, entries] of this.services) {
      let removed = false;
      for (const [instance, entry] of entries) {
        if (now - entry.seenAt > ttlMs) {
          entries.delete(instance);
          removed = true;
        }
      }
      if (entries.size === 0) this.services.delete(service);
      if (removed) this.notify(service);
    }
  }

  /** Moves every entry's last sighting `ms` later (time this view could not hear counts against no one). */
  shift(ms: number): void {
    for (const entries of this.services.values()) for (const entry of entries.values()) entry.seenAt += ms;
  }

  private notify(service: string): void {
    this.lists.delete(service);
    this.changed(service);
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
