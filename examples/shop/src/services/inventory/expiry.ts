/** @module Expiry: active reservations past their time give their units back, exactly once. */
import { type InventoryWork, type ReservationRow, settle } from "./reservations.js";

/** Reservations expired per sweep at most; the next sweep takes the rest. */
const SWEEP_BATCH = 100;

/**
 * Expires the active reservations that are due at `now` and returns how many this call expired. Any
 * number of these may run at once on one database (several instances, each with its sweep loop): each
 * reservation moves with a conditional update (`status = 'active' and expires_at <= now`), and only the
 * call whose update changed the row gives the units back and emits StockReleased (reason "expired"), in
 * the same transaction. The others find the row settled and skip it.
 */
export async function sweepExpiredReservations(work: InventoryWork, now = new Date()): Promise<number> {
  const due: ReservationRow[] = await work.db
    .selectFrom("reservations")
    .selectAll()
    .where("status", "=", "active")
    .where("expires_at", "<=", now.toISOString())
    .orderBy("expires_at")
    .limit(SWEEP_BATCH)
    .execute();
  let expired = 0;
  for (const row of due) if (await settle(work, row, "expired", now)) expired++;
  return expired;
}
