/** @module Service discovery: instances register with a TTL and heartbeats; callers read live instances. */

export interface InstanceInfo {
  readonly service: string;
  /** Unique instance id, subject-safe (letters, digits, '-', '_'). */
  readonly instance: string;
  /** The service contract's version. */
  readonly version: string;
  readonly host: string;
  readonly pid: number;
  /** Action names (`service.action`) this instance serves. */
  readonly actions: readonly string[];
  /** Event types this instance subscribes to. */
  readonly events: readonly string[];
  readonly startedAt: string;
  /** Readiness gates traffic: strategies only pick ready instances. */
  readonly ready: boolean;
  /** Load as the instance reports it with each heartbeat. */
  readonly load: { readonly inFlight: number };
  /** Optional HTTP address of the instance's /livez, /readyz and /metrics. */
  readonly endpoint?: string;
}

export interface Registration {
  /** Changes what the next heartbeat reports (readiness, load). */
  update(patch: Partial<Pick<InstanceInfo, "ready" | "load">>): void;
  /** Removes the instance at once (a graceful stop); a crash is noticed by the TTL instead. */
  deregister(): Promise<void>;
}

export interface Registry {
  readonly name: string;
  /** Registers an instance and keeps it alive with heartbeats until deregistered or closed. */
  register(info: InstanceInfo): Promise<Registration>;
  /** Live instances of a service (ready or not), from a locally cached view: cheap enough per call. */
  instances(service: string): readonly InstanceInfo[];
  /** Called whenever the set or state of a service's instances changes; returns an unsubscribe. */
  watch(listener: (service: string) => void): () => void;
  close(): Promise<void>;
}

export interface RegistryTiming {
  /** How often an instance re-announces itself (default 2 s). */
  heartbeatMs?: number;
  /** An instance not heard from for this long is gone (default 3 heartbeats). */
  ttlMs?: number;
}
