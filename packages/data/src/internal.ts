/** @module For sibling packages (outbox, inbox, projections, testing): building blocks that are not public API. */

export { isDatabaseSpec } from "./database.js";
export { resolveDialect } from "./dialects/resolve-dialect.js";
export type { SqliteDatabaseDialect } from "./dialects/sqlite-dialect.js";
export { MEMORY, sqliteDialect } from "./dialects/sqlite-dialect.js";
export { migrateToLatest } from "./migrate.js";
