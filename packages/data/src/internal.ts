/** @module For sibling packages (outbox, inbox, projections, testing): building blocks that are not public API. */

export { isDatabaseSpec } from "./database.js";
export type { PostgresDatabaseDialect } from "./dialects/postgres-dialect.js";
export { postgresDialect, postgresNames } from "./dialects/postgres-dialect.js";
export { derivedPassword, ensureDatabase, provisionRoleAndSchema } from "./dialects/postgres-provisioning.js";
export { resolveDialect } from "./dialects/resolve-dialect.js";
export type { SqliteDatabaseDialect } from "./dialects/sqlite-dialect.js";
export { dataDirFrom, MEMORY, sqliteDialect } from "./dialects/sqlite-dialect.js";
export { migrateToLatest } from "./migrate.js";
export { joinable, ServiceDatabase, type UnitOfWork } from "./service-database.js";
export type { SagaJournalTable, SagasTable, SystemTables } from "./system-tables.js";
