/** @module The plug point for SQL engines: one implementation per file beside this one. */
import type { ResourceOwner } from "@flotilla/core";
import type { Dialect } from "kysely";

/**
 * An engine that gives each service its own database. The provider wraps the result in a Kysely
 * instance, migrates it and destroys it on close, so a dialect must release everything it opened
 * when Kysely's driver is destroyed (and open nothing until the driver initializes).
 */
export interface DatabaseDialect {
  /** The engine, in logs and errors (`sqlite`, `postgres`). */
  readonly name: string;
  /** A Kysely dialect for `owner.service`'s own database, created if missing; never another's. */
  open(owner: ResourceOwner): Dialect;
  /**
   * The schema holding the migrator's tables, for engines whose catalogs show a service other
   * services' tables too (PostgreSQL with a schema per service); default: the connection's own.
   */
  migrationTableSchema?(owner: ResourceOwner): string | undefined;
  /**
   * Engines with notifications (PostgreSQL's LISTEN/NOTIFY): calls `onNotify` for each notification on
   * `channel` sent to `owner`'s database, until the returned function is called. Call it only after
   * the database is open (it uses the open connection pool).
   */
  listen?(owner: ResourceOwner, channel: string, onNotify: () => void): Promise<() => Promise<void>>;
}
