/** @module A service's database declaration: its migrations, and the Kysely type its handlers see. */
import { FlotillaCodes, FlotillaError, type ResourceSpec } from "@flotilla/core";
import type { Kysely, Migration } from "kysely";

export interface DatabaseOptions {
  /**
   * Migrations by name, run in name order (compared by code unit, so zero-pad: `001_init`, `002_orders`).
   * Never rename or reorder one that has run anywhere: start fails if the applied history disagrees.
   */
  migrations: Readonly<Record<string, Migration>>;
}

/** What `database()` returns: handlers of the service that declares it see `ctx.db: Kysely<Schema>`. */
export interface DatabaseSpec<Schema = unknown> extends ResourceSpec<Kysely<Schema>> {
  readonly kind: "database";
  readonly migrations: Readonly<Record<string, Migration>>;
}

/** Declares a service's own database; pass it as `defineService(contract, { database, ... })`. */
export function database<Schema>(options: DatabaseOptions): DatabaseSpec<Schema> {
  const migrations = options?.migrations;
  if (typeof migrations !== "object" || migrations === null) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, "database({ migrations }) needs a record of migrations");
  }
  for (const [name, migration] of Object.entries(migrations)) {
    if (name.trim() === "" || typeof migration?.up !== "function") {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `migration "${name}" needs a name and an up(db) function`);
    }
  }
  return Object.freeze({ kind: "database", migrations: Object.freeze({ ...migrations }) });
}

export function isDatabaseSpec(spec: ResourceSpec): spec is DatabaseSpec {
  const migrations = (spec as Partial<DatabaseSpec>).migrations;
  return spec.kind === "database" && typeof migrations === "object" && migrations !== null;
}
