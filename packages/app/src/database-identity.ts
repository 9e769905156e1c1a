/**
 * @module Which database each service of a process uses, as a non-secret identity that instances
 * sharing one database compute alike: what a starting instance compares with its peers' (docs/deployment.md).
 */
import { hostname } from "node:os";
import { resolve } from "node:path";
import type { ServiceDefinition } from "@flotilla/core";
import { databaseFromEnv } from "@flotilla/data";
import { MEMORY, sqliteDialect } from "@flotilla/data/internal";
import type { DatabaseClaim } from "@flotilla/nats";

/**
 * The database of each service that declares one, as `databaseProviderFromEnv` will open it:
 * `sqlite:<host>:<absolute file>` (a file is shared only on its own host; an in-memory database never),
 * or `postgres://<host>:<port>/<database>` with `?schema=<schema>` under schema isolation — no user,
 * no password, no other parameters.
 */
export function databaseClaims(
  services: readonly ServiceDefinition[],
  options: { dataDir: string; env?: Readonly<Record<string, string | undefined>> },
): DatabaseClaim[] {
  const env = options.env ?? process.env;
  const fallback = sqliteDialect({ dataDir: options.dataDir });
  return services
    .filter((s) => s.database !== undefined)
    .map((s) => ({ service: s.name, database: identity(s.name, env, fallback) }));
}

function identity(
  service: string,
  env: Readonly<Record<string, string | undefined>>,
  fallback: ReturnType<typeof sqliteDialect>,
): string {
  const choice = databaseFromEnv(service, { env, fallback });
  if (choice.sqliteFile === MEMORY) return `sqlite::memory:@${hostname()}/${process.pid}`;
  if (choice.sqliteFile !== undefined) return `sqlite:${hostname()}:${resolve(choice.sqliteFile)}`;
  const url = new URL(env[choice.variable ?? ""] ?? "");
  const schema = url.searchParams.get("isolation") === "schema" ? `?schema=${service.replaceAll("-", "_")}` : "";
  const database = url.pathname.replaceAll("%7Bservice%7D", service.replaceAll("-", "_"));
  return `${url.protocol.replace("postgresql:", "postgres:")}//${url.hostname.toLowerCase()}:${url.port || "5432"}${database}${schema}`;
}
