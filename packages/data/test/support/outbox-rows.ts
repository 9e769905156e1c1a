/** @module Test support: how many events wait in a service's outbox (read through the service's own `ctx.db`). */
import type { Kysely } from "../../src/index.js";

/** Works on any service database: Flotilla creates `flotilla_outbox` in every one. */
export async function outboxRows<DB>(db: Kysely<DB>): Promise<number> {
  const row = await (db as unknown as Kysely<{ flotilla_outbox: { seq: number } }>)
    .selectFrom("flotilla_outbox")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
