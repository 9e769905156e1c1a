/** @module Chooses each service's database from the environment: FLOTILLA_DB_<SERVICE>, then FLOTILLA_DB, then a default. */
import { join } from "node:path";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { type DatabaseProvider, type DatabaseProviderOptions, databaseProvider } from "./database-provider.js";
import type { DatabaseDialect } from "./dialects/dialect.js";
import { type DialectSpec, resolveDialect } from "./dialects/resolve-dialect.js";
import { MEMORY, type SqliteDatabaseDialect, sqliteDialect } from "./dialects/sqlite-dialect.js";

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
  const env = { ...(options.env ?? process.env) };
  const byVar = new Map<string, DatabaseProvider>();
  // One provider per distinct URL, so two services given one database-per-service URL are caught.
  const byUrl = new Map<string, DatabaseProvider>();
  for (const [name, url] of Object.entries(env)) {
    if (!url || !isDatabaseVar(name)) continue;
    const provider = byUrl.get(url) ?? fromVar(name, url, options.provider);
    byUrl.set(url, provider);
    byVar.set(name, provider);
  }
  const fallback = databaseProvider(options.fallback ?? sqliteDialect(), options.provider);
  const providers = () => [...new Set([...byUrl.values(), fallback])];
  return {
    kind: "database",
    open(spec, owner) {
      const variable = variableFor(owner.service, env);
      const provider = (variable === undefined ? undefined : byVar.get(variable)) ?? fallback;
      return provider.open(spec, owner);
    },
    async backlogs() {
      const all = await Promise.all(providers().map((p) => p.backlogs()));
      return all.flat();
    },
    async sweepIdempotencyKeys(now) {
      const deleted = await Promise.all(providers().map((p) => p.sweepIdempotencyKeys(now)));
      return deleted.reduce((sum, n) => sum + n, 0);
    },
    idempotencyOutcomes: () => providers().flatMap((p) => p.idempotencyOutcomes()),
  };
}

/** Where the environment puts one service's database (what `databaseProviderFromEnv` opens for it). */
export interface DatabaseChoice {
  /** `FLOTILLA_DB_<SERVICE>` or `FLOTILLA_DB`, whichever named it; undefined: the fallback. */
  readonly variable: string | undefined;
  /** The engine, from the variable's URL or the fallback (`dialect.name`: `sqlite`, `postgres`). */
  readonly dialect: DatabaseDialect;
  /** On SQLite, the service's database file (absolute), or `":memory:"`; undefined on other engines. */
  readonly sqliteFile: string | undefined;
}

/**
 * The database `databaseProviderFromEnv` gives `service`: FLOTILLA_DB_<SERVICE>, else FLOTILLA_DB,
 * else `fallback` (default: SQLite files in the default data directory). For tools that open one
 * service's database and need to know what it is first, e.g. `flotilla replay`. A bad URL is a CONFIG
 * error naming its variable.
 */
export function databaseFromEnv(
  service: string,
  options: Pick<DatabaseEnvOptions, "env" | "fallback"> = {},
): DatabaseChoice {
  const env = options.env ?? process.env;
  const variable = variableFor(service, env);
  let dialect: DatabaseDialect;
  if (variable === undefined) dialect = resolveDialect(options.fallback ?? sqliteDialect());
  else {
    try {
      dialect = resolveDialect(env[variable] as string);
    } catch (err) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `${variable}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  }
  const dataDir = dialect.name === "sqlite" ? (dialect as Partial<SqliteDatabaseDialect>).dataDir : undefined;
  const sqliteFile =
    dataDir === undefined ? undefined : dataDir === MEMORY ? MEMORY : join(dataDir, `${service}.sqlite`);
  return { variable, dialect, sqliteFile };
}

function isDatabaseVar(name: string): boolean {
  return name === "FLOTILLA_DB" || name.startsWith("FLOTILLA_DB_");
}

/** The variable that names `service`'s database: its own when set (non-empty), else FLOTILLA_DB when set. */
function variableFor(service: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const own = databaseEnvVar(service);
  if (env[own]) return own;
  return env.FLOTILLA_DB ? "FLOTILLA_DB" : undefined;
}

function fromVar(name: string, url: string, options: DatabaseProviderOptions | undefined): DatabaseProvider {
  try {
    return databaseProvider(url, options);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw FlotillaError.of(FlotillaCodes.CONFIG, `${name}: ${reason}`, { cause: err });
  }
}
