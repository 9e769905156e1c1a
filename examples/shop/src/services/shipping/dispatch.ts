/**
 * @module Dispatch: an order's confirmation makes its booked shipments due after a delay, and a sweep
 * dispatches the due ones exactly once, however many instances sweep one database.
 */
import { intFromEnv } from "../env-int.js";
import { shipping } from "./contract.js";
import type { ShippingDb, ShippingWork } from "./shipments.js";

export interface DispatchOptions {
  /** Time from an order's confirmation to its dispatch (default: SHOP_DISPATCH_DELAY_MS, else 2000). */
  dispatchDelayMs?: number;
  /** How often each instance sweeps for due shipments (default: SHOP_DISPATCH_SWEEP_MS, else 500); 0: never. */
  sweepMs?: number;
}

export interface DispatchSettings {
  dispatchDelayMs: number;
  sweepMs: number;
}

/** Read when an instance starts (so a test can set the environment first), and checked then. */
export function dispatchSettings(options: DispatchOptions, env = process.env): DispatchSettings {
  return {
    dispatchDelayMs:
      options.dispatchDelayMs ?? intFromEnv("SHOP_DISPATCH_DELAY_MS", 2_000, { min: 0, max: 7 * 86_400_000 }, env),
    sweepMs: options.sweepMs ?? intFromEnv("SHOP_DISPATCH_SWEEP_MS", 500, { min: 0, max: 3_600_000 }, env),
  };
}

/**
 * Makes the order's booked shipments due at `dispatchAt`; returns how many. The first confirmation
 * sets the time and a later one (an order confirmed twice) keeps it. A shipment booked after its order
 * was confirmed is not scheduled by it: the saga books before it confirms.
 */
export async function scheduleDispatch(db: ShippingDb, orderId: string, dispatchAt: Date): Promise<number> {
  const result = await db
    .updateTable("shipments")
    .set({ dispatch_at: dispatchAt.toISOString(), updated_at: new Date().toISOString() })
    .where("order_id", "=", orderId)
    .where("status", "=", "booked")
    .where("dispatch_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Shipments dispatched per sweep at most; the next sweep takes the rest. */
const SWEEP_BATCH = 100;

/**
 * Dispatches the booked shipments due at `now` and returns how many this call dispatched. Each moves
 * with a conditional update (`status = 'booked' and dispatch_at <= now`) in its own transaction with
 * its ShipmentDispatched event: of several sweeps racing (instances on one database), or a sweep racing
 * a cancellation, exactly one changes the row, and only that one emits.
 */
export async function dispatchDueShipments(work: ShippingWork, now = new Date()): Promise<number> {
  const at = now.toISOString();
  const due = await work.db
    .selectFrom("shipments")
    .select(["id", "order_id"])
    .where("status", "=", "booked")
    .where("dispatch_at", "<=", at)
    .orderBy("dispatch_at")
    .limit(SWEEP_BATCH)
    .execute();
  let dispatched = 0;
  for (const shipment of due) {
    const moved = await work.db.transaction().execute(async (trx) => {
      const changed = await trx
        .updateTable("shipments")
        .set({ status: "dispatched", dispatched_at: at, updated_at: at })
        .where("id", "=", shipment.id)
        .where("status", "=", "booked")
        .where("dispatch_at", "<=", at)
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) return false;
      await work.emit(shipping.ShipmentDispatched, {
        shipmentId: shipment.id,
        orderId: shipment.order_id ?? "",
        dispatchedAt: at,
      });
      return true;
    });
    if (moved) dispatched++;
  }
  return dispatched;
}
