/** @module A projection's state row and its parked events, shared by live handlers and the rebuild. */
import type { EventEnvelope } from "@flotilla/core";
import { type Kysely, PostgresAdapter } from "kysely";
import type { SystemTables } from "../system-tables.js";

/**
 * Whether live events must be parked because a rebuild is running. On PostgreSQL the state row is
 * read FOR SHARE: a rebuild's first and last transactions update it, so they wait for handlers
 * that read it to commit, and a handler never straddles a switch. The row is created `live` first
 * if missing, so there is always a row to lock. (SQLite writers are serialized anyway.)
 */
export async function isParking(db: Kysely<SystemTables>, projection: string): Promise<boolean> {
  await db
    .insertInto("flotilla_projections")
    .values({ name: projection, status: "live", updated_at: Date.now(), rebuilt_events: null })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  let query = db.selectFrom("flotilla_projections").select("status").where("name", "=", projection);
  if (isPostgres(db)) query = query.forShare();
  const row = await query.executeTakeFirst();
  return row?.status === "rebuilding";
}

export async function park(
  db: Kysely<SystemTables>,
  projection: string,
  subscription: string,
  envelope: EventEnvelope,
): Promise<void> {
  await db
    .insertInto("flotilla_projection_parked")
    .values({ projection, subscription, event_id: envelope.id, envelope: JSON.stringify(envelope) })
    .onConflict((oc) => oc.columns(["projection", "subscription", "event_id"]).doNothing())
    .execute();
}

export function isPostgres(db: Kysely<SystemTables>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
