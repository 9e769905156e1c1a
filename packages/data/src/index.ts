/** @module Flotilla data: each service's own database (Kysely over SQLite or PostgreSQL) and its migrations. */

// Re-exported so services and this package share one Kysely: two copies' `Kysely` types do not mix.
export type {
  ColumnType,
  Generated,
  Insertable,
  Kysely,
  Migration,
  Selectable,
  Transaction,
  Updateable,
} from "kysely";
export { sql } from "kysely";
export type { DatabaseOptions, DatabaseSpec } from "./database.js";
export { database } from "./database.js";
export type { DatabaseProvider, DatabaseProviderOptions } from "./database-provider.js";
export { databaseProvider, postgresDatabases, sqliteDatabases } from "./database-provider.js";
export type { DatabaseChoice, DatabaseEnvOptions } from "./database-provider-from-env.js";
export { databaseEnvVar, databaseFromEnv, databaseProviderFromEnv } from "./database-provider-from-env.js";
export type { DatabaseDialect } from "./dialects/dialect.js";
export type { PostgresIsolation, PostgresOptions } from "./dialects/postgres-dialect.js";
export type { DialectSpec } from "./dialects/resolve-dialect.js";
export type { SqliteOptions } from "./dialects/sqlite-dialect.js";
export type { IdempotencyCount, IdempotencyOptions } from "./idempotency/idempotency-keys.js";
export type { IdempotencyOutcome } from "./idempotency/idempotency-middleware.js";
export {
  EVENT_JOURNAL_FILE,
  eventJournalFile,
  openEventJournal,
  sqliteEventJournal,
} from "./journal/sqlite-event-journal.js";
export type { OutboxBacklog, RelayOptions } from "./outbox/outbox-relay.js";
export type { ServiceOutboxBacklog } from "./outbox/relays.js";
export type { ProjectionOptions } from "./projections/define-projection.js";
export { defineProjection } from "./projections/define-projection.js";
export type { RebuildOptions, RebuildProgress, RebuildResult } from "./projections/rebuild-projection.js";
export { projectionOf, rebuildProjection } from "./projections/rebuild-projection.js";
export { ServiceDatabase } from "./service-database.js";
export { isUniqueViolation } from "./unique-violation.js";
