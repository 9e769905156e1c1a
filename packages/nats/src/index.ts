/** @module Flotilla over NATS: request-reply for actions, JetStream for events, KV for the registry. */
import type { Registry, Transport } from "@flotilla/core";
import { KvRegistry } from "./kv-registry.js";
import { kvOptionsFromUrl } from "./kv-registry-options.js";
import { NatsTransport } from "./nats-transport.js";
import { optionsFromUrl } from "./options.js";

export { KvRegistry } from "./kv-registry.js";
export type { KvRegistryOptions } from "./kv-registry-options.js";
export { NatsTransport } from "./nats-transport.js";
export type { NatsTransportOptions } from "./options.js";

/** A `TransportFactory` for `nats://` URLs: `createHost({ transport: "nats://…", transports: { nats: natsTransport } })`. */
export function natsTransport(url: URL): Transport {
  return new NatsTransport(optionsFromUrl(url));
}

/**
 * A `RegistryFactory` for `nats://` URLs: `resolveRegistry("nats://host:4222?bucket=…&heartbeatMs=…&ttlMs=…",
 * { nats: natsRegistry })`. The registry connects on first use.
 */
export function natsRegistry(url: URL): Registry {
  return new KvRegistry(kvOptionsFromUrl(url));
}
export type { DatabaseClaim, DatabaseGuard, DatabasePeer, DatabasePeersOptions } from "./database-peers.js";
export { DATABASE_PREFIX, guardDatabases } from "./database-peers.js";
export type { GatewayNeeds, NatsPermissions, PermissionOptions } from "./permissions.js";
export { natsPermissions } from "./permissions.js";
export type { NatsUnit, NatsUser, ServerConfigOptions, UserOptions } from "./permissions-config.js";
export { natsServerConfig, natsUsers, natsUserUrl } from "./permissions-config.js";
