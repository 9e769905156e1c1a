/** @module The in-process registry: hosts in one process share it; TTL and heartbeats behave as over NATS KV. */
import { FlotillaCodes, FlotillaError } from "../errors.js";
import { MemoryRegistryStore } from "./memory-registry-store.js";
import type { InstanceInfo, Registration, Registry, RegistryTiming } from "./registry.js";

const INSTANCE_ID = /^[A-Za-z0-9_-]+$/;

/**
 * A registry view. Hosts of one process may share one view; `view()` gives another participant on the
 * same entries (what a second process connecting to the same bucket would be). `close()` stops this
 * view's heartbeats without deregistering, exactly like a process that dies: its instances vanish
 * once the TTL passes.
 */
export class MemoryRegistry implements Registry {
  readonly name = "memory";
  private readonly store: MemoryRegistryStore;
  private readonly registrations = new Set<MemoryRegistration>();
  private readonly unsubscribes = new Set<() => void>();
  private closed = false;

  constructor(timing: RegistryTiming = {}, store?: MemoryRegistryStore) {
    this.store = store ?? newStore(timing);
  }

  get heartbeatMs(): number {
    return this.store.heartbeatMs;
  }

  get ttlMs(): number {
    return this.store.ttlMs;
  }

  /** Another participant on the same entries, with its own heartbeats and watchers. */
  view(): MemoryRegistry {
    return new MemoryRegistry({}, this.store);
  }

  async register(info: InstanceInfo): Promise<Registration> {
    if (this.closed) throw new FlotillaError("UNAVAILABLE", "registry is closed");
    if (!INSTANCE_ID.test(info.instance)) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `instance id "${info.instance}" must match ${INSTANCE_ID}`);
    }
    const registration = new MemoryRegistration(info, this.store, (r) => this.registrations.delete(r));
    this.registrations.add(registration);
    return registration;
  }

  instances(service: string): readonly InstanceInfo[] {
    return this.store.list(service);
  }

  watch(listener: (service: string) => void): () => void {
    let active = true;
    const stop = this.store.listen((service) => {
      if (active) listener(service);
    });
    const unsubscribe = () => {
      active = false;
      stop();
      this.unsubscribes.delete(unsubscribe);
    };
    this.unsubscribes.add(unsubscribe);
    return unsubscribe;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const registration of this.registrations) registration.stopHeartbeats();
    this.registrations.clear();
    for (const unsubscribe of [...this.unsubscribes]) unsubscribe();
  }
}

class MemoryRegistration implements Registration {
  private info: InstanceInfo;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    info: InstanceInfo,
    private readonly store: MemoryRegistryStore,
    private readonly forget: (r: MemoryRegistration) => void,
  ) {
    this.info = info;
    store.put(info, this);
    this.timer = setInterval(() => store.put(this.info, this), store.heartbeatMs);
    this.timer.unref();
  }

  update(patch: Partial<Pick<InstanceInfo, "ready" | "load">>): void {
    this.info = { ...this.info, ...patch };
  }

  async deregister(): Promise<void> {
    this.stopHeartbeats();
    this.forget(this);
    this.store.remove(this.info.service, this.info.instance, this);
  }

  stopHeartbeats(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

function newStore(timing: RegistryTiming): MemoryRegistryStore {
  const heartbeatMs = timing.heartbeatMs ?? 2_000;
  const ttlMs = timing.ttlMs ?? 3 * heartbeatMs;
  if (!(heartbeatMs > 0) || !(ttlMs > heartbeatMs)) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `registry ttlMs (${ttlMs}) must exceed heartbeatMs (${heartbeatMs})`);
  }
  return new MemoryRegistryStore(heartbeatMs, ttlMs);
}
