/** @module Chooses each service's database from the environment: FLOTILLA_DB_<SERVICE>, then FLOTILLA_DB, then a default. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { type DatabaseProvider, type DatabaseProviderOptions, databaseProvider } from "./database-provider.js";
import type { DialectSpec } from "./dialects/resolve-dialect.js";
import { sqliteDialect } from "./dialects/sqlite-dialect.js";

export interface DatabaseEnvOptions {
  /** For services the environment names no database for (default: SQLite files, see `sqliteDatabases`). */
  fallback?: DialectSpec;
  /** Default `process.env`, read once, when the provider is created. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Passed to every provider made (e.g. the outbox relay's timing). */
  provider?: DatabaseProviderOptions;
}

/** `FLOTILLA_DB_ORDER_HISTORY` for service `order-history`. */
export function databaseEnvVar(service: string): string {
  return `FLOTILLA_DB_${service.toUpperCase().replaceAll("-", "_")}`;
}

/**
 * One provider for a whole host whose services may each live elsewhere: `FLOTILLA_DB_<SERVICE>`
 * (a URL), else `FLOTILLA_DB` for every service, else `fallback`. Every URL is checked up front, so a
 * bad one fails the start of the process, not of one service later.
 */
export function databaseProviderFromEnv(options: DatabaseEnvOptions = {}): DatabaseProvider {
  const byVar = new Map<string, DatabaseProvider>();
  // One provider per distinct URL, so two services given one database-per-service URL are caught.
  const byUrl = new Map<string, DatabaseProvider>();
  for (const [name, url] of Object.entries(options.env ?? process.env)) {
    if (!url || (name !== "FLOTILLA_DB" && !name.startsWith("FLOTILLA_DB_"))) continue;
    const provider = byUrl.get(url) ?? fromVar(name, url, options.provider);
    byUrl.set(url, provider);
    byVar.set(name, provider);
  }
  const fallback = databaseProvider(options.fallback ?? sqliteDialect(), options.provider);
  return {
    kind: "database",
    open(spec, owner) {
      const provider = byVar.get(databaseEnvVar(owner.service)) ?? byVar.get("FLOTILLA_DB") ?? fallback;
      return provider.open(spec, owner);
    },
    async backlogs() {
      const all = await Promise.all([...new Set([...byUrl.values(), fallback])].map((p) => p.backlogs()));
      return all.flat();
    },
  };
}

function fromVar(name: string, url: string, options: DatabaseProviderOptions | undefined): DatabaseProvider {
  try {
    return databaseProvider(url, options);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw FlotillaError.of(FlotillaCodes.CONFIG, `${name}: ${reason}`, { cause: err });
  }
}
