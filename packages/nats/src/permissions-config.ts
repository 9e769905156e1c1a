/**
 * @module Least-privilege NATS users for an app's deployment units (one per process or group of
 * processes), and the nats-server configuration and transport URLs that carry them.
 */
import { randomBytes } from "node:crypto";
import { FlotillaCodes, FlotillaError, type ServiceDefinition } from "@flotilla/core";
import { type GatewayNeeds, type NatsPermissions, natsPermissions } from "./permissions.js";
import { safeName } from "./subjects.js";

/** Services sharing one connection (a process, or every instance of one deployment unit), maybe with the gateway. */
export interface NatsUnit {
  /** The user name: letters, digits, `_` and `-`. */
  readonly name: string;
  readonly services: readonly ServiceDefinition[];
  /** The gateway runs in this unit too. */
  readonly gateway?: GatewayNeeds;
}

/** One generated user: who it is, its password, and what it may do. */
export interface NatsUser {
  readonly user: string;
  readonly password: string;
  /** The inbox prefix its connections must use (`?inboxPrefix=` of its transport URL). */
  readonly inboxPrefix: string;
  readonly permissions: NatsPermissions;
}

const USER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export interface UserOptions {
  /** The units' processes use the NATS KV registry (`--registry`) with this bucket. */
  readonly registryBucket?: string;
}

/** A user per unit with a random password (256 bits, URL-safe), confined to its own inbox prefix. */
export function natsUsers(units: readonly NatsUnit[], options: UserOptions = {}): NatsUser[] {
  const seen = new Set<string>();
  return units.map((unit) => {
    if (!USER_NAME.test(unit.name)) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `unit name "${unit.name}" must match ${USER_NAME}`);
    }
    if (seen.has(unit.name)) throw FlotillaError.of(FlotillaCodes.CONFIG, `unit "${unit.name}" is named twice`);
    seen.add(unit.name);
    const inboxPrefix = `_INBOX_${safeName(unit.name)}`;
    return {
      user: unit.name,
      password: randomBytes(32).toString("base64url"),
      inboxPrefix,
      permissions: natsPermissions(unit.services, {
        inboxPrefix,
        ...(unit.gateway === undefined ? {} : { gateway: unit.gateway }),
        ...(options.registryBucket === undefined ? {} : { registryBucket: options.registryBucket }),
      }),
    };
  });
}

export interface ServerConfigOptions {
  /** Client port (default 4222). */
  readonly port?: number;
  /** JetStream's store directory; nats-server picks one when absent. */
  readonly storeDir?: string;
}

/**
 * A nats-server configuration: JetStream on, and only the given users, each with its permissions.
 * Values are written as JSON, which the nats-server configuration format accepts.
 */
export function natsServerConfig(users: readonly NatsUser[], options: ServerConfigOptions = {}): string {
  const jetstream = options.storeDir === undefined ? "enabled" : JSON.stringify({ store_dir: options.storeDir });
  const entries = users.map((u) =>
    JSON.stringify({ user: u.user, password: u.password, permissions: u.permissions }, null, 2)
      .split("\n")
      .map((line) => `    ${line}`)
      .join("\n"),
  );
  return [
    "# nats-server configuration written by `flotilla nats-config`: one user per deployment unit, each",
    "# allowed only the subjects its services need (docs/security.md). Keep it secret: it holds passwords.",
    `port: ${options.port ?? 4222}`,
    `jetstream: ${jetstream}`,
    "authorization: {",
    "  users: [",
    entries.join(",\n"),
    "  ]",
    "}",
    "",
  ].join("\n");
}

/** The transport URL a unit's processes use: `nats://<user>:<password>@<server>?inboxPrefix=_INBOX_<user>`. */
export function natsUserUrl(user: NatsUser, server: string): string {
  const url = new URL(server.includes("://") ? server : `nats://${server}`);
  url.username = encodeURIComponent(user.user);
  url.password = encodeURIComponent(user.password);
  url.searchParams.set("inboxPrefix", user.inboxPrefix);
  return url.toString();
}
