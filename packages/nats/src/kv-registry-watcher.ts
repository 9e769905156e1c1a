/** @module Keeps a KV registry view's cache current: a watcher of every key, resynced after reconnects, and pruning. */
import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator, Status } from "@nats-io/transport-node";
import { decodeInstance } from "./kv-registration.js";
import type { RegistryCache } from "./kv-registry-cache.js";
import { Pauses } from "./pauses.js";

export interface WatcherEnv {
  readonly nc: NatsConnection;
  readonly kv: KV;
  readonly cache: RegistryCache;
  /** Pruning runs every half heartbeat, so an expired entry lingers at most ttl + heartbeat / 2. */
  readonly heartbeatMs: number;
  /** Recreates the bucket when watching fails (an operator may have deleted it). */
  recreate(): Promise<void>;
}

export class RegistryWatcher {
  private watcher: QueuedIterator<KvWatchEntry> | undefined;
  private status: QueuedIterator<Status> | undefined;
  private pruner: NodeJS.Timeout | undefined;
  private readonly pauses = new Pauses();
  private offlineSince: number | undefined;
  private resyncing = false;
  private stopped = false;

  constructor(private readonly env: WatcherEnv) {}

  start(): void {
    this.status = this.env.nc.status() as QueuedIterator<Status>;
    void this.observe(this.status);
    void this.follow();
    this.pruner = setInterval(() => {
      // While disconnected nobody can be heard of: keep the last known view rather than emptying it.
      if (this.offlineSince === undefined) this.env.cache.prune();
    }, this.env.heartbeatMs / 2);
    this.pruner.unref();
  }

  get online(): boolean {
    return this.offlineSince === undefined;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.pruner);
    this.watcher?.stop();
    this.status?.stop();
    this.pauses.wakeAll();
  }

  /** Watches every key's last value, then live changes; starts over (a full resync) when the watcher ends. */
  private async follow(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      if (this.offlineSince !== undefined) {
        await this.pauses.pause(60_000); // until reconnected or stopped
        continue;
      }
      try {
        this.resyncing = false;
        const watcher = await this.env.kv.watch();
        this.watcher = watcher;
        if (this.stopped) watcher.stop();
        for await (const entry of watcher) this.receive(entry);
        failures = this.resyncing || this.stopped ? 0 : failures + 1;
      } catch {
        failures++;
        if (!this.stopped) await this.env.recreate().catch(() => undefined);
      }
      if (failures > 0 && !this.stopped) await this.pauses.pause(Math.min(5_000, 100 * 2 ** failures));
    }
  }

  private receive(entry: KvWatchEntry): void {
    const now = Date.now();
    // Live updates are aged from their arrival (no clock skew); the initial values, which may be
    // older, from the server's timestamp.
    const seenAt = entry.isUpdate ? now : Math.min(now, entry.created.getTime());
    this.env.cache.received(entry.key, entry.revision, decodeInstance(entry), seenAt);
  }

  private async observe(status: AsyncIterable<Status>): Promise<void> {
    for await (const s of status) {
      if (s.type === "disconnect") this.offlineSince ??= Date.now();
      else if (s.type === "reconnect") {
        if (this.offlineSince !== undefined) this.env.cache.shift(Date.now() - this.offlineSince);
        this.offlineSince = undefined;
        // A restarted server has forgotten the watcher's consumer, and deletes may have been missed.
        this.resyncing = true;
        this.watcher?.stop();
        this.pauses.wakeAll();
      }
    }
  }
}
