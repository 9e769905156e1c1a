/** @module The "database" resource provider: opens each service's own database, migrates it, closes it. */
import {
  FlotillaCodes,
  FlotillaError,
  type ResourceHandle,
  type ResourceOwner,
  type ResourceProvider,
  type ResourceSpec,
} from "@flotilla/core";
import { Kysely, sql } from "kysely";
import { isDatabaseSpec } from "./database.js";
import type { DatabaseDialect } from "./dialects/dialect.js";
import { type PostgresOptions, postgresDialect } from "./dialects/postgres-dialect.js";
import { type DialectSpec, resolveDialect } from "./dialects/resolve-dialect.js";
import { type SqliteOptions, sqliteDialect } from "./dialects/sqlite-dialect.js";
import { migrateToLatest } from "./migrate.js";

/**
 * A provider for `createHost({ resources: [...] })`, from a URL (`sqlite:.flotilla/data`,
 * `postgres://…`) or a dialect.
 * Each service gets its own database, migrated before the service starts; `ctx.db` is that database only.
 */
export function databaseProvider(spec: DialectSpec): ResourceProvider {
  const dialect = resolveDialect(spec);
  return { kind: "database", open: (resource, owner) => openDatabase(dialect, resource, owner) };
}

/** One SQLite file per service, `<dataDir>/<service>.sqlite`, or private in-memory databases. */
export function sqliteDatabases(options: SqliteOptions = {}): ResourceProvider {
  return databaseProvider(sqliteDialect(options));
}

/** PostgreSQL: a database per service, or a schema and role per service on a shared database. */
export function postgresDatabases(options: PostgresOptions): ResourceProvider {
  return databaseProvider(postgresDialect(options));
}

async function openDatabase(
  dialect: DatabaseDialect,
  spec: ResourceSpec,
  owner: ResourceOwner,
): Promise<ResourceHandle> {
  if (!isDatabaseSpec(spec)) {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `${owner.service}: declare its database with database({ migrations })`,
    );
  }
  const db = new Kysely<unknown>({ dialect: dialect.open(owner) });
  try {
    await connect(db, dialect, owner);
    await migrateToLatest(db, spec.migrations, owner, dialect.migrationTableSchema?.(owner));
  } catch (err) {
    await db.destroy().catch((closeErr: unknown) => owner.log.warn({ err: closeErr }, "database failed to close"));
    throw err;
  }
  return { value: db, close: () => db.destroy() };
}

/** Opens the connection before migrating, so "cannot reach the database" is not reported as a bad migration. */
async function connect(db: Kysely<unknown>, dialect: DatabaseDialect, owner: ResourceOwner): Promise<void> {
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    if (err instanceof FlotillaError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new FlotillaError("UNAVAILABLE", `${owner.service}: cannot open its ${dialect.name} database: ${reason}`, {
      cause: err,
    });
  }
}
