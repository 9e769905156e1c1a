/**
 * @module Booking and cancelling shipments, once per shipment id. A shipment leaves `booked` by a
 * conditional update only (to cancelled here, to dispatched in dispatch.ts), so a cancellation racing
 * the dispatch has exactly one winner and the loser answers from the row.
 */
import type { Context } from "@flotilla/core";
import type { Kysely } from "kysely";
import { type Address, shipping } from "./contract.js";
import type { ShippingTables } from "./schema.js";

export type ShippingDb = Kysely<ShippingTables>;
export type ShippingWork = Pick<Context<ShippingDb>, "db" | "emit">;
type ShipmentRow = ShippingTables["shipments"];

/** The test country (SHOP-API.md): never served. */
const UNSERVED_COUNTRIES = new Set(["ZZ"]);

export interface BookingInput {
  shipmentId: string;
  orderId: string;
  customerId: string;
  address: Address;
  items: Array<{ productId: string; quantity: number }>;
}

export type Booked = { shipmentId: string; status: "booked" | "dispatched" };

/**
 * Books a shipment; the same id again answers with its current state. A destination that is not served
 * is refused before anything is stored: the same booking again is refused the same way, and the saga's
 * compensation (a cancel) then leaves a tombstone like for any unknown id.
 */
export async function createShipment(work: ShippingWork, input: BookingInput, now = new Date()): Promise<Booked> {
  // A shipment is inserted once and then changes status once at most: three reads settle any race.
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await findShipment(work.db, input.shipmentId);
    if (row !== undefined) {
      if (row.status === "cancelled") {
        throw shipping.error("SHIPMENT_CANCELLED", `shipment ${row.id} was cancelled before this booking`, {
          shipmentId: row.id,
        });
      }
      return { shipmentId: row.id, status: row.status };
    }
    const country = input.address.country.toUpperCase();
    if (UNSERVED_COUNTRIES.has(country)) {
      throw shipping.error("DESTINATION_NOT_SERVED", `we do not ship to ${country}`, {
        shipmentId: input.shipmentId,
        country,
      });
    }
    if (await insertBooking(work, input, country, now)) return { shipmentId: input.shipmentId, status: "booked" };
  }
  throw settledNowhere(input.shipmentId);
}

/**
 * Booked → cancelled, once. A dispatched shipment is gone (`cancelled: false`); an unknown id leaves a
 * tombstone so a booking arriving after its own compensation is refused.
 */
export async function cancelShipment(
  work: ShippingWork,
  shipmentId: string,
  now = new Date(),
): Promise<{ cancelled: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await findShipment(work.db, shipmentId);
    if (row === undefined) {
      if (await insertTombstone(work.db, shipmentId, now)) return { cancelled: false };
      continue; // a booking got there first: cancel that
    }
    if (row.status !== "booked") return { cancelled: false };
    if (await markCancelled(work, row, now)) return { cancelled: true };
  }
  throw settledNowhere(shipmentId);
}

function insertBooking(work: ShippingWork, input: BookingInput, country: string, now: Date): Promise<boolean> {
  const at = now.toISOString();
  return work.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto("shipments")
      .values({
        id: input.shipmentId,
        order_id: input.orderId,
        customer_id: input.customerId,
        name: input.address.name,
        street: input.address.street,
        city: input.address.city,
        country,
        items: JSON.stringify(input.items),
        status: "booked",
        dispatch_at: null,
        dispatched_at: null,
        created_at: at,
        updated_at: at,
      })
      .onConflict((oc) => oc.column("id").doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
    await work.emit(shipping.ShipmentBooked, { shipmentId: input.shipmentId, orderId: input.orderId });
    return true;
  });
}

function markCancelled(work: ShippingWork, row: ShipmentRow, now: Date): Promise<boolean> {
  return work.db.transaction().execute(async (trx) => {
    const changed = await trx
      .updateTable("shipments")
      .set({ status: "cancelled", updated_at: now.toISOString() })
      .where("id", "=", row.id)
      .where("status", "=", "booked")
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) === 0) return false;
    await work.emit(shipping.ShipmentCancelled, { shipmentId: row.id, orderId: row.order_id ?? "" });
    return true;
  });
}

async function insertTombstone(db: ShippingDb, id: string, now: Date): Promise<boolean> {
  const at = now.toISOString();
  const inserted = await db
    .insertInto("shipments")
    .values({
      id,
      order_id: null,
      customer_id: null,
      name: null,
      street: null,
      city: null,
      country: null,
      items: "[]",
      status: "cancelled",
      dispatch_at: null,
      dispatched_at: null,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.column("id").doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export function findShipment(db: ShippingDb, id: string): Promise<ShipmentRow | undefined> {
  return db.selectFrom("shipments").selectAll().where("id", "=", id).executeTakeFirst();
}

function settledNowhere(shipmentId: string): Error {
  return new Error(`shipment ${shipmentId} changed under every attempt to read it`);
}
