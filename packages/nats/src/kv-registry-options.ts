/** @module Options of the NATS KV registry, from code or from a `nats://…?bucket=…` URL. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import type { NatsConnection } from "@nats-io/transport-node";
import { type NatsTransportOptions, optionsFromUrl } from "./options.js";

type ConnectionOptions = Pick<
  NatsTransportOptions,
  "servers" | "name" | "user" | "pass" | "token" | "inboxPrefix" | "connectTimeoutMs" | "reconnectWaitMs"
>;

export interface KvRegistryOptions extends Partial<ConnectionOptions> {
  /** Use this connection instead of opening one (it is not closed by `close()`); `servers` is then ignored. */
  connection?: NatsConnection;
  /** KV bucket holding `<service>.<instance>` keys (default `flotilla_registry`); stream `KV_<bucket>`. */
  bucket?: string;
  /** How often an instance re-puts its key (default 2 s). */
  heartbeatMs?: number;
  /** The bucket's `max_age` and the local prune age: a key not re-put for this long is gone (default 3 heartbeats). */
  ttlMs?: number;
  /** Replicas of the bucket's stream when this registry creates it (default 1). */
  replicas?: number;
  /** Bound on each KV operation (put, delete, bucket creation), default 5 s. */
  timeoutMs?: number;
}

export type ResolvedKvRegistryOptions = ReturnType<typeof resolveKvOptions>;

export const DEFAULT_BUCKET = "flotilla_registry";
const BUCKET_NAME = /^[A-Za-z0-9_-]+$/;

export function resolveKvOptions(options: KvRegistryOptions) {
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const resolved = {
    name: "flotilla-registry",
    connectTimeoutMs: 5_000,
    reconnectWaitMs: 500,
    replicas: 1,
    timeoutMs: 5_000,
    ...options,
    bucket: options.bucket ?? DEFAULT_BUCKET,
    heartbeatMs,
    ttlMs: options.ttlMs ?? 3 * heartbeatMs,
  };
  if (!(resolved.heartbeatMs > 0) || !(resolved.ttlMs > resolved.heartbeatMs)) {
    throw config(`registry ttlMs (${resolved.ttlMs}) must exceed heartbeatMs (${resolved.heartbeatMs})`);
  }
  if (!BUCKET_NAME.test(resolved.bucket))
    throw config(`registry bucket "${resolved.bucket}" must match ${BUCKET_NAME}`);
  if (resolved.connection === undefined && resolved.servers === undefined) {
    throw config("the NATS registry needs servers or a connection");
  }
  return resolved;
}

const REGISTRY_NUMERIC = ["heartbeatMs", "ttlMs", "replicas", "timeoutMs"] as const;
/** Query parameters the transport's URL parser understands and that mean the same for the registry. */
const CONNECTION_PARAMS = new Set(["servers", "name", "inboxPrefix", "connectTimeoutMs", "reconnectWaitMs"]);

/**
 * `nats://[user:pass@ | token@]host[:port][?bucket=…&heartbeatMs=…&ttlMs=…&replicas=…&timeoutMs=…&servers=…&name=…&inboxPrefix=…]`.
 * An unknown parameter (including transport-only ones such as `publishTimeoutMs`) is refused with FLOTILLA_CONFIG.
 */
export function kvOptionsFromUrl(url: URL): KvRegistryOptions {
  const connection = new URL(url.href);
  connection.search = "";
  const options: KvRegistryOptions = {};
  for (const [key, value] of url.searchParams) {
    if (key === "bucket") options.bucket = value;
    else if ((REGISTRY_NUMERIC as readonly string[]).includes(key)) {
      if (value === "" || !Number.isFinite(Number(value))) throw config(`invalid NATS registry option ${key}=${value}`);
      options[key as (typeof REGISTRY_NUMERIC)[number]] = Number(value);
    } else if (CONNECTION_PARAMS.has(key)) connection.searchParams.append(key, value);
    else throw config(`unknown NATS registry option ${key}=${value}`);
  }
  return { ...optionsFromUrl(connection), ...options };
}

function config(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
