/** @module The shared state behind in-process registry views: entries stamped when last heard from, expired by TTL. */
import { InstanceTable } from "./instance-table.js";
import type { InstanceInfo } from "./registry.js";

/** What a KV bucket is to the NATS registry: every view reads and writes here. */
export class MemoryRegistryStore {
  private readonly table = new InstanceTable((service) => this.changed(service));
  private readonly listeners = new Set<(service: string) => void>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly heartbeatMs: number,
    readonly ttlMs: number,
  ) {}

  /** `owner` is the registration writing: a stale one cannot remove its successor. */
  put(info: InstanceInfo, owner: object): void {
    this.table.put(info, Date.now(), owner);
    this.sweeper ??= this.startSweeper();
  }

  remove(service: string, instance: string, owner: object): void {
    if (this.table.ownerOf(service, instance) === owner) this.table.delete(service, instance);
  }

  list(service: string): readonly InstanceInfo[] {
    return this.table.list(service);
  }

  listen(listener: (service: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Removes every entry not heard from within the TTL. */
  sweep(now = Date.now()): void {
    this.table.expire(now, this.ttlMs);
    if (this.table.isEmpty && this.sweeper !== undefined) {
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
    for (const listener of this.listeners) {
      // Listeners run after the change completes and apart from each other, as a KV watch would call them.
      queueMicrotask(() => listener(service));
    }
  }
}
