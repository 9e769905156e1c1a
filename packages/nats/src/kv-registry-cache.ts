/** @module The KV registry's local view: entries by service, aged by when this view last heard of them. */
import type { InstanceInfo } from "@flotilla/core";
import { InstanceTable } from "@flotilla/core/internal";

/**
 * Lists are rebuilt on change only, so `list()` returns the same array until something changes.
 * Own writes are applied at once; a watcher entry older than an own write of the same key (the watcher
 * lags) is ignored, so a deregistered instance does not come back for a moment.
 */
export class RegistryCache {
  private readonly table: InstanceTable;
  /** Own writes not yet seen on the watcher: key → revision and when it was written. */
  private readonly writes = new Map<string, { revision: number; at: number }>();

  constructor(
    private readonly ttlMs: number,
    changed: (service: string) => void,
  ) {
    this.table = new InstanceTable(changed);
  }

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
    return this.table.list(service);
  }

  /** Drops entries not heard of within the TTL (the server's expiry of a key is not seen by watchers on 2.9). */
  prune(now = Date.now()): void {
    this.table.expire(now, this.ttlMs);
    for (const [key, write] of this.writes) if (now - write.at > this.ttlMs) this.writes.delete(key);
  }

  /** After an outage: time spent disconnected does not count against anyone's TTL. */
  shift(ms: number): void {
    this.table.shift(ms);
  }

  private apply(key: string, info: InstanceInfo | undefined, seenAt: number): void {
    const [service, instance] = splitKey(key);
    if (service === undefined || instance === undefined) return;
    if (info === undefined) this.table.delete(service, instance);
    // A value written under another instance's key is not trusted for either.
    else if (info.service === service && info.instance === instance) this.table.put(info, seenAt);
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
