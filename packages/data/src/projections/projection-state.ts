/** @module A projection's state row and its parked events, shared by live handlers and the rebuild. */
import type { EventEnvelope } from "@flotilla/core";
import { type Kysely, PostgresAdapter } from "kysely";
import type { SystemTables } from "../system-tables.js";

/**
 * Whether live events must be parked because a rebuild is running. On PostgreSQL the state row is
 * read FOR SHARE: the rebuild's final switch to `live` waits for handlers that saw `rebuilding` to
 * commit their parked event, so it drains every one of them. (SQLite writers are serialized anyway.)
 */
export async function isParking(db: Kysely<SystemTables>, projection: string): Promise<boolean> {
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
