/** @module Brings a service's database up to its latest migration with Kysely's Migrator. */
import { FlotillaCodes, FlotillaError, type ResourceOwner } from "@flotilla/core";
import { type Kysely, type Migration, Migrator } from "kysely";

export interface MigrationTables {
  /** Schema of the history tables (default: the connection's own). */
  schema?: string | undefined;
  /** History and lock table names (default: Kysely's), so separate histories can share a database. */
  table?: string;
  lockTable?: string;
}

/** Runs every pending migration in name order; throws FLOTILLA_MIGRATION_FAILED naming the one that failed. */
export async function migrateToLatest(
  db: Kysely<unknown>,
  migrations: Readonly<Record<string, Migration>>,
  owner: ResourceOwner,
  tables: MigrationTables = {},
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    ...(tables.schema === undefined ? {} : { migrationTableSchema: tables.schema }),
    ...(tables.table === undefined ? {} : { migrationTableName: tables.table }),
    ...(tables.lockTable === undefined ? {} : { migrationLockTableName: tables.lockTable }),
    provider: { getMigrations: async () => ({ ...migrations }) },
    // Not localeCompare (Kysely's default): every machine must agree on the order already applied.
    nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error === undefined) {
    const applied = results.filter((r) => r.status === "Success").map((r) => r.migrationName);
    if (applied.length > 0) owner.log.info({ migrations: applied }, "migrations applied");
    return applied;
  }
  const failed = results.find((r) => r.status === "Error")?.migrationName;
  const what = failed === undefined ? "migrations could not run" : `migration "${failed}" failed`;
  const reason = error instanceof Error ? error.message : String(error);
  throw FlotillaError.of(FlotillaCodes.MIGRATION_FAILED, `${owner.service}: ${what}: ${reason}`, {
    cause: error,
    details: { service: owner.service, migration: failed },
  });
}
