/** @module Service discovery over NATS KV: heartbeated keys with a bucket TTL, a watcher-fed local cache. */
import { FlotillaCodes, FlotillaError, type InstanceInfo, type Registration, type Registry } from "@flotilla/core";
import { unavailable } from "@flotilla/core/internal";
import { type JetStreamClient, jetstream, StorageType } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { KvRegistration } from "./kv-registration.js";
import { RegistryCache } from "./kv-registry-cache.js";
import { type KvRegistryOptions, type ResolvedKvRegistryOptions, resolveKvOptions } from "./kv-registry-options.js";
import { RegistryWatcher } from "./kv-registry-watcher.js";
import { disconnected } from "./rpc-client.js";
import { withTimeout } from "./with-timeout.js";

const NAME = /^[A-Za-z0-9_-]+$/;

interface Link {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly kv: KV;
  readonly owned: boolean;
  readonly watcher: RegistryWatcher;
}

/**
 * A registry view over the KV bucket: what one process connects with. Instances re-put their key every
 * heartbeat; the bucket's `max_age` (= ttlMs) removes keys nobody re-puts, and since watchers on
 * nats-server 2.9 are not told of such expiries, each view also prunes entries it has not heard of
 * within ttlMs. `close()` stops heartbeats without deleting keys, exactly like a crash.
 */
export class KvRegistry implements Registry {
  readonly name = "nats";
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  readonly bucket: string;
  private readonly options: ResolvedKvRegistryOptions;
  private readonly cache: RegistryCache;
  private readonly listeners = new Set<(service: string) => void>();
  private readonly registrations = new Set<KvRegistration>();
  private link: Promise<Link> | undefined;
  private recreating: Promise<void> | undefined;
  private closed = false;

  constructor(options: KvRegistryOptions) {
    this.options = resolveKvOptions(options);
    ({ heartbeatMs: this.heartbeatMs, ttlMs: this.ttlMs, bucket: this.bucket } = this.options);
    this.cache = new RegistryCache(this.ttlMs, (service) => this.notify(service));
  }

  /** Connects, makes sure the bucket exists and starts the watcher; other methods call it as needed. */
  async connect(): Promise<void> {
    await this.opened();
  }

  async register(info: InstanceInfo): Promise<Registration> {
    for (const id of [info.service, info.instance]) {
      if (!NAME.test(id)) throw FlotillaError.of(FlotillaCodes.CONFIG, `registry name "${id}" must match ${NAME}`);
    }
    const link = await this.opened();
    if (!link.watcher.online) throw disconnected("not connected to NATS");
    const registration = new KvRegistration(
      {
        kv: link.kv,
        js: link.js,
        bucket: this.bucket,
        cache: this.cache,
        heartbeatMs: this.heartbeatMs,
        timeoutMs: this.options.timeoutMs,
        online: () => link.watcher.online,
        recreate: () => this.recreate(link.js),
        forget: (r) => this.registrations.delete(r),
      },
      info,
    );
    try {
      await registration.start();
    } catch (err) {
      throw unavailable(`cannot register ${info.instance} in the ${this.bucket} bucket`, err);
    }
    if (this.closed) {
      registration.stop(); // closed meanwhile: no heartbeats from a closed view
      throw unavailable("registry is closed");
    }
    this.registrations.add(registration);
    return registration;
  }

  instances(service: string): readonly InstanceInfo[] {
    this.opened().catch(() => undefined);
    return this.cache.list(service);
  }

  watch(listener: (service: string) => void): () => void {
    this.opened().catch(() => undefined);
    const own = (service: string) => listener(service); // a listener added twice is called twice
    this.listeners.add(own);
    return () => this.listeners.delete(own);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const registration of this.registrations) registration.stop();
    this.registrations.clear();
    this.listeners.clear();
    const link = await this.link?.catch(() => undefined);
    link?.watcher.stop();
    if (link?.owned) await withTimeout(link.nc.drain(), 5_000).catch(() => link.nc.close());
  }

  private opened(): Promise<Link> {
    if (this.closed) return Promise.reject(unavailable("registry is closed"));
    this.link ??= this.open().catch((err: unknown) => {
      this.link = undefined;
      throw err instanceof FlotillaError ? err : unavailable(`cannot open the ${this.bucket} registry bucket`, err);
    });
    return this.link;
  }

  private async open(): Promise<Link> {
    const o = this.options;
    const nc =
      o.connection ??
      (await connect({
        servers: o.servers,
        name: o.name,
        ...(o.user === undefined ? {} : { user: o.user, pass: o.pass }),
        ...(o.token === undefined ? {} : { token: o.token }),
        ...(o.inboxPrefix === undefined ? {} : { inboxPrefix: o.inboxPrefix }),
        timeout: o.connectTimeoutMs,
        maxReconnectAttempts: -1,
        reconnectTimeWait: o.reconnectWaitMs,
        reconnectJitter: Math.round(o.reconnectWaitMs / 4),
      }));
    const owned = o.connection === undefined;
    try {
      const js = jetstream(nc, { timeout: o.timeoutMs });
      const kv = await this.createBucket(js);
      if (this.closed) throw unavailable("registry is closed");
      const recreate = () => this.recreate(js);
      const watcher = new RegistryWatcher({ nc, kv, cache: this.cache, heartbeatMs: this.heartbeatMs, recreate });
      watcher.start();
      return { nc, js, kv, owned, watcher };
    } catch (err) {
      if (owned) await nc.close();
      throw err;
    }
  }

  /** Creates the bucket unless it exists; an existing bucket is used as it is, if it keeps keys long enough. */
  private async createBucket(js: JetStreamClient): Promise<KV> {
    const o = this.options;
    const kv = await new Kvm(js).create(this.bucket, {
      history: 1,
      ttl: o.ttlMs,
      replicas: o.replicas,
      storage: StorageType.File,
      timeout: o.timeoutMs,
    });
    const { ttl } = await kv.status();
    if (ttl > 0 && ttl <= this.heartbeatMs) {
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        `bucket ${this.bucket} expires keys after ${ttl} ms, not longer than the heartbeat (${this.heartbeatMs} ms)`,
      );
    }
    return kv;
  }

  private recreate(js: JetStreamClient): Promise<void> {
    this.recreating ??= this.createBucket(js)
      .then(() => undefined)
      .finally(() => {
        this.recreating = undefined;
      });
    return this.recreating;
  }

  private notify(service: string): void {
    for (const listener of this.listeners) {
      // Listeners run after the change completes, apart from each other, and only while subscribed.
      queueMicrotask(() => {
        if (!this.listeners.has(listener)) return;
        try {
          listener(service);
        } catch {
          // a failing listener must not stop the others or the watcher
        }
      });
    }
  }
}
