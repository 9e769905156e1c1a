/**
 * @module The Secrets: one per unit (its NATS user's transport URL and its services' database URLs) and
 * the edge keys every unit mounts. Written as `stringData`, so a reader sees what the API server encodes.
 */
import { randomBytes } from "node:crypto";
import type { ResolvedUnit } from "@flotilla/app";
import type { ServiceDefinition } from "@flotilla/core";
import { databaseEnvVar } from "@flotilla/data";
import { postgresNames } from "@flotilla/data/internal";
import { type NatsUser, natsUserUrl } from "@flotilla/nats";
import { EDGE_KEYS_SECRET, type K8sObject, type K8sSettings, meta, natsServerUrl } from "./objects.js";

/** The key of the edge keys file in its Secret, and so its file name where it is mounted. */
export const EDGE_KEYS_FILE = "edge-keys.json";

/** The Secret a unit's pods read their environment from. */
export const unitSecretName = (unit: string): string => `${unit}-credentials`;

/**
 * Each service's database URL (`FLOTILLA_DB_<SERVICE>` → URL) from the template: `{service}` becomes the
 * service's PostgreSQL name (`order-history` → `order_history`, as the data package names its database,
 * schema and role `flotilla_<name>`) and `{password}` a fresh random password. Services without a
 * database get none.
 */
export function databaseUrls(services: readonly ServiceDefinition[], template: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const service of services) {
    if (service.database === undefined) continue;
    urls[databaseEnvVar(service.name)] = template
      .replaceAll("{service}", postgresNames(service.name).schema)
      .replaceAll("{password}", randomBytes(24).toString("base64url"));
  }
  return urls;
}

/** A unit's Secret: `FLOTILLA_TRANSPORT` (its least-privilege NATS user) and its `FLOTILLA_DB_<SERVICE>` URLs. */
export function unitSecret(
  settings: K8sSettings,
  unit: ResolvedUnit,
  user: NatsUser,
  databases: Readonly<Record<string, string>>,
): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta(settings, unitSecretName(unit.name), unit.name),
    type: "Opaque",
    stringData: { FLOTILLA_TRANSPORT: natsUserUrl(user, natsServerUrl(settings)), ...databases },
  };
}

/** The edge keys (a JWKS file with private keys): the gateway signs callers with them, services verify. */
export function edgeKeysSecret(settings: K8sSettings, keysFile: string): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta(settings, EDGE_KEYS_SECRET),
    type: "Opaque",
    stringData: { [EDGE_KEYS_FILE]: keysFile },
  };
}
