/** @module The KV registry's local view: entries by service, aged by when this view last heard of them. */
import type { InstanceInfo } from "@flotilla/core";

interface Entry {
  readonly info: InstanceInfo;
  /** What change detection compares, so a heartbeat that changes nothing notifies nobody. */
  readonly state: string;
  seenAt: number;
}

const NO_INSTANCES: readonly InstanceInfo[] = Object.freeze([]);

/**
 * Lists are rebuilt on change only, so `list()` returns the same array until something changes.
 * Own writes are applied at once; a watcher entry older than an own write of the same key (the watcher
 * lags) is ignored, so a deregistered instance does not come back for a moment.
 */
export class RegistryCache {
  private readonly services = new Map<string, Map<string, Entry>>();
  private readonly lists = new Map<string, readonly InstanceInfo[]>();
  /** Own writes not yet seen on the watcher: key → revision and when it was written. */
  private readonly writes = new Map<string, { revision: number; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly changed: (service: string) => void,
  ) {}

  /** An entry from the watcher; `info` undefined for a delete (or a value that is not an instance). */
  received(key: string, revision: number, info: InstanceInfo | undefined, seenAt: number): void {
    const write = this.writes.get(key);
    if (write !== undefined) {
      if (revision < write.revision) return;
      this.writes.delete(key);
    }
    this.apply(key, info, seenAt);
  }

  /** This view's own put or delete, acknowledged by the server at `revision`. */
  wrote(key: string, revision: number, info: InstanceInfo | undefined): void {
    const now = Date.now();
    this.writes.set(key, { revision, at: now });
    this.apply(key, info, now);
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

  /** Drops entries not heard of within the TTL (the server's expiry of a key is not seen by watchers on 2.9). */
  prune(now = Date.now()): void {
    for (const [service, entries] of this.services) {
      let removed = false;
      for (const [instance, entry] of entries) {
        if (now - entry.seenAt > this.ttlMs) {
          entries.delete(instance);
          removed = true;
        }
      }
      if (entries.size === 0) this.services.delete(service);
      if (removed) this.notify(service);
    }
    for (const [key, write] of this.writes) if (now - write.at > this.ttlMs) this.writes.delete(key);
  }

  /** After an outage: time spent disconnected does not count against anyone's TTL. */
  shift(ms: number): void {
    for (const entries of this.services.values()) for (const entry of entries.values()) entry.seenAt += ms;
  }

  private apply(key: string, info: InstanceInfo | undefined, seenAt: number): void {
    const [service, instance] = splitKey(key);
    if (service === undefined || instance === undefined) return;
    let entries = this.services.get(service);
    const previous = entries?.get(instance);
    if (info === undefined) {
      if (previous === undefined) return;
      entries?.delete(instance);
      if (entries?.size === 0) this.services.delete(service);
      this.notify(service);
      return;
    }
    const state = JSON.stringify(info);
    if (previous !== undefined && previous.state === state) {
      previous.seenAt = Math.max(previous.seenAt, seenAt);
      return;
    }
    if (entries === undefined) {
      entries = new Map();
      this.services.set(service, entries);
    }
    entries.set(instance, { info: freeze(info), state, seenAt });
    this.notify(service);
  }

  private notify(service: string): void {
    this.lists.delete(service);
    this.changed(service);
  }
}

/** `<service>.<instance>`: both are dot-free, so a key has exactly two tokens. */
export function registryKey(service: string, instance: string): string {
  return `${service}.${instance}`;
}

function splitKey(key: string): [string | undefined, string | undefined] {
  const parts = key.split(".");
  return parts.length === 2 ? [parts[0], parts[1]] : [undefined, undefined];
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
