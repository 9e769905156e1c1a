/** @module One registered instance in the KV bucket: its heartbeats, its updates, its deregistration. */
import type { InstanceInfo, Registration } from "@flotilla/core";
import { JetStreamApiCodes, type JetStreamClient } from "@nats-io/jetstream";
import type { KV, KvEntry } from "@nats-io/kv";
import { Empty, MsgHdrsImpl } from "@nats-io/transport-node";
import { type RegistryCache, registryKey } from "./kv-registry-cache.js";
import { isApiError, isNoStream } from "./streams.js";

export interface RegistrationEnv {
  readonly kv: KV;
  readonly js: JetStreamClient;
  readonly bucket: string;
  readonly cache: RegistryCache;
  readonly heartbeatMs: number;
  readonly timeoutMs: number;
  /** False while the connection is down: requests then wait for their timeout, so none are made. */
  online(): boolean;
  /** Recreates the bucket after a put found it missing (an operator deleted it). */
  recreate(): Promise<void>;
  forget(registration: KvRegistration): void;
}

export class KvRegistration implements Registration {
  private readonly key: string;
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly env: RegistrationEnv,
    private info: InstanceInfo,
  ) {
    this.key = registryKey(info.service, info.instance);
  }

  /** Resolves once the first put is confirmed; then heartbeats every `heartbeatMs`. */
  async start(): Promise<void> {
    await this.put(this.env.timeoutMs);
    this.timer = setInterval(() => {
      // Puts are not doubled up, and one lost with a dying connection holds up the next beat by one
      // heartbeat at most (the client does not fail requests on disconnect).
      if (!this.env.online()) return;
      this.beating ??= this.put(this.env.heartbeatMs)
        .catch((err: unknown) => (isNoStream(err) ? this.env.recreate() : undefined))
        .catch(() => undefined) // the next beat retries
        .finally(() => {
          this.beating = undefined;
        });
    }, this.env.heartbeatMs);
    this.timer.unref();
  }

  update(patch: Partial<Pick<InstanceInfo, "ready" | "load">>): void {
    this.info = { ...this.info, ...patch };
  }

  /**
   * Deletes the key, unless someone else wrote it since (a successor with the same id). Never rejects:
   * if the server cannot be reached, the key expires with the TTL instead.
   */
  async deregister(): Promise<void> {
    this.stop();
    this.env.forget(this);
    await this.beating;
    if (!this.env.online()) {
      // Leave our own view at once; the others see the key expire (ttl), as after a crash.
      this.env.cache.wrote(this.key, this.revision + 1, undefined);
      return;
    }
    try {
      await this.delete(this.revision);
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.StreamWrongLastSequence)) return;
      // Our last put may have landed after its timeout: delete it if the key still holds this registration.
      const entry = await this.env.kv.get(this.key).catch(() => null);
      const stored = entry === null ? undefined : decodeInstance(entry);
      if (entry !== null && stored !== undefined && sameRegistration(stored, this.info)) {
        await this.delete(entry.revision).catch(() => undefined);
      }
    }
  }

  /** Stops heartbeating without deleting (a crash, as far as everyone else can tell). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async put(timeout: number): Promise<void> {
    const info = this.info;
    const value = JSON.stringify({ ...info, heartbeatAt: new Date().toISOString() });
    this.revision = await this.env.kv.put(this.key, value, { timeout });
    this.env.cache.wrote(this.key, this.revision, info);
  }

  /** A KV delete as ADR-8 defines it, published directly to learn the delete marker's revision. */
  private async delete(previous: number): Promise<void> {
    const headers = MsgHdrsImpl.fromRecord({
      "KV-Operation": ["DEL"],
      "Nats-Expected-Last-Subject-Sequence": [String(previous)],
    });
    const subject = `$KV.${this.env.bucket}.${this.key}`;
    const ack = await this.env.js.publish(subject, Empty, { headers, timeout: this.env.timeoutMs });
    this.env.cache.wrote(this.key, ack.seq, undefined);
  }
}

function sameRegistration(a: InstanceInfo, b: InstanceInfo): boolean {
  return a.host === b.host && a.pid === b.pid && a.startedAt === b.startedAt;
}

/** The instance a KV entry holds; undefined for a delete and for anything that is not one of ours. */
export function decodeInstance(entry: KvEntry): InstanceInfo | undefined {
  if (entry.operation !== "PUT") return undefined;
  let value: Record<string, unknown>;
  try {
    value = entry.json<Record<string, unknown>>();
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { heartbeatAt: _, ...info } = value;
  const load = info.load as { inFlight?: unknown } | undefined;
  const valid =
    entry.key === registryKey(String(info.service), String(info.instance)) &&
    ["version", "host", "startedAt"].every((k) => typeof info[k] === "string") &&
    typeof info.pid === "number" &&
    typeof info.ready === "boolean" &&
    typeof load?.inFlight === "number" &&
    isStrings(info.actions) &&
    isStrings(info.events) &&
    (info.endpoint === undefined || typeof info.endpoint === "string");
  return valid ? (info as unknown as InstanceInfo) : undefined;
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}
