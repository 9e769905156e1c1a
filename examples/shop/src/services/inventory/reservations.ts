/**
 * @module Reservations: holding stock, turning holds into sales and giving them back. Every change of a
 * reservation is a conditional update from `active`, so of two racing calls (or instances) exactly one
 * moves the units and emits the event; the other reads the outcome and answers from it.
 */
import type { Context } from "@flotilla/core";
import type { Kysely, Transaction } from "kysely";
import { inventory } from "./contract.js";
import type { InventoryTables, ReservationStatus } from "./schema.js";

export type InventoryDb = Kysely<InventoryTables>;
/** What these functions need of a handler's context (a test can pass its own `emit`). */
export type InventoryWork = Pick<Context<InventoryDb>, "db" | "emit">;
export type ReservationRow = InventoryTables["reservations"];
export interface Line {
  productId: string;
  quantity: number;
}

/**
 * A reservation changes status at most once (active → committed, released or expired), so a loop that
 * re-reads after losing a race settles on its second pass; the third is only a guard.
 */
const MAX_ATTEMPTS = 3;

export function findReservation(db: InventoryDb, id: string): Promise<ReservationRow | undefined> {
  return db.selectFrom("reservations").selectAll().where("id", "=", id).executeTakeFirst();
}

/** True once an active hold's time is up: from then on it is expired, whether or not a sweep got to it. */
export function isDue(row: ReservationRow, now: Date): boolean {
  return row.expires_at !== null && row.expires_at <= now.toISOString();
}

export interface ReserveInput {
  reservationId: string;
  orderId: string;
  items: Line[];
}

/** Holds every line or none; the same id again answers as the first call did. */
export async function reserve(
  work: InventoryWork,
  input: ReserveInput,
  ttlMs: number,
  now = new Date(),
): Promise<{ reservationId: string; expiresAt: string }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const row = await findReservation(work.db, input.reservationId);
    if (row === undefined) {
      const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
      if (await createReservation(work, input, expiresAt, now))
        return { reservationId: input.reservationId, expiresAt };
      continue; // another call with this id inserted it first: answer as that one did
    }
    switch (row.status) {
      case "committed":
        return { reservationId: row.id, expiresAt: expiryOf(row) };
      case "active":
        if (!isDue(row, now)) return { reservationId: row.id, expiresAt: expiryOf(row) };
        await settle(work, row, "expired", now);
        continue;
      default:
        throw released(row.id);
    }
  }
  throw settledNowhere(input.reservationId);
}

/** Active → committed: the units leave the stock for good. Committed again answers the same. */
export async function commit(
  work: InventoryWork,
  reservationId: string,
  now = new Date(),
): Promise<{ reservationId: string; status: "committed" }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const row = await findReservation(work.db, reservationId);
    if (row === undefined) {
      throw inventory.error("RESERVATION_NOT_FOUND", `reservation ${reservationId} does not exist`, {
        reservationId,
      });
    }
    switch (row.status) {
      case "committed":
        return { reservationId, status: "committed" };
      case "active":
        // A hold past its time is expired (its units go back) rather than sold: the same outcome as if
        // the sweep had run first, so the answer does not depend on the sweep's timing.
        await settle(work, row, isDue(row, now) ? "expired" : "committed", now);
        continue;
      default:
        throw released(reservationId);
    }
  }
  throw settledNowhere(reservationId);
}

/**
 * Active → released. Anything else is not released by this call (`released: false`), including a
 * committed reservation: its units were sold. An unknown id leaves a tombstone, so a reserve arriving
 * after its own compensation is refused instead of holding stock nobody will release.
 */
export async function release(
  work: InventoryWork,
  reservationId: string,
  now = new Date(),
): Promise<{ released: boolean; found: ReservationStatus | "unknown" }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const row = await findReservation(work.db, reservationId);
    if (row === undefined) {
      if (await insertTombstone(work.db, reservationId, now)) return { released: false, found: "unknown" };
      continue; // a reserve (or another release) with this id got there first
    }
    if (row.status !== "active") return { released: false, found: row.status };
    if (await settle(work, row, "released", now)) return { released: true, found: "active" };
  }
  throw settledNowhere(reservationId);
}

/**
 * Moves an active reservation to `to` and its units with it, in one transaction with the event; false
 * when the reservation was no longer active (someone else settled it) or, for `expired`, not yet due
 * (and, for `committed`, already due). Only the caller whose update changed the row moves stock.
 */
export function settle(
  work: InventoryWork,
  row: ReservationRow,
  to: "committed" | "released" | "expired",
  now: Date,
): Promise<boolean> {
  const at = now.toISOString();
  return work.db.transaction().execute(async (trx) => {
    let update = trx
      .updateTable("reservations")
      .set({ status: to, updated_at: at })
      .where("id", "=", row.id)
      .where("status", "=", "active");
    if (to === "expired") update = update.where("expires_at", "<=", at);
    if (to === "committed") update = update.where("expires_at", ">", at);
    const changed = await update.executeTakeFirst();
    if (Number(changed.numUpdatedRows) === 0) return false;
    const items = itemsOf(row);
    const orderId = row.order_id ?? "";
    for (const line of merged(items)) {
      await trx
        .updateTable("stock")
        .set((eb) => ({
          reserved: eb("reserved", "-", line.quantity),
          ...(to === "committed" ? { on_hand: eb("on_hand", "-", line.quantity) } : {}),
          updated_at: at,
        }))
        .where("product_id", "=", line.productId)
        .execute();
    }
    if (to === "committed") {
      await work.emit(inventory.StockCommitted, { reservationId: row.id, orderId, items });
    } else {
      await work.emit(inventory.StockReleased, { reservationId: row.id, orderId, items, reason: to });
    }
    return true;
  });
}

/** Inserts the reservation and holds its units, or nothing at all; false if the id exists already. */
function createReservation(work: InventoryWork, input: ReserveInput, expiresAt: string, now: Date): Promise<boolean> {
  const at = now.toISOString();
  return work.db.transaction().execute(async (trx) => {
    // The row first: a racing call with the same id waits here (PostgreSQL) or after us (SQLite), then
    // inserts nothing and goes back to read ours.
    const inserted = await trx
      .insertInto("reservations")
      .values({
        id: input.reservationId,
        order_id: input.orderId,
        status: "active",
        items: JSON.stringify(input.items),
        expires_at: expiresAt,
        created_at: at,
        updated_at: at,
      })
      .onConflict((oc) => oc.column("id").doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
    const short: string[] = [];
    // One conditional update per product, in product order (so concurrent reserves lock rows in the
    // same order and cannot deadlock on PostgreSQL): it holds the units only if they are available at
    // that moment, which no concurrent reserve can change between the check and the write.
    for (const line of merged(input.items)) {
      const held = await trx
        .updateTable("stock")
        .set((eb) => ({ reserved: eb("reserved", "+", line.quantity), updated_at: at }))
        .where("product_id", "=", line.productId)
        .where((eb) => eb(eb("on_hand", "-", eb.ref("reserved")), ">=", line.quantity))
        .executeTakeFirst();
      if (Number(held.numUpdatedRows) === 0) short.push(line.productId);
    }
    // Throwing rolls back the reservation and every line already held: all or none.
    if (short.length > 0) throw await shortage(trx, short);
    await work.emit(inventory.StockReserved, {
      reservationId: input.reservationId,
      orderId: input.orderId,
      items: input.items,
      expiresAt,
    });
    return true;
  });
}

/** Unknown products are named as such; otherwise the lines that could not be held are out of stock. */
async function shortage(trx: Transaction<InventoryTables>, productIds: string[]) {
  const stocked = await trx.selectFrom("stock").select("product_id").where("product_id", "in", productIds).execute();
  const known = new Set(stocked.map((s) => s.product_id));
  const unknown = productIds.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    return inventory.error("PRODUCT_NOT_STOCKED", `no stock is kept for ${unknown.join(", ")}`, {
      productIds: unknown,
    });
  }
  return inventory.error("OUT_OF_STOCK", `not enough stock of ${productIds.join(", ")}`, { productIds });
}

async function insertTombstone(db: InventoryDb, id: string, now: Date): Promise<boolean> {
  const at = now.toISOString();
  const inserted = await db
    .insertInto("reservations")
    .values({ id, order_id: null, status: "released", items: "[]", expires_at: null, created_at: at, updated_at: at })
    .onConflict((oc) => oc.column("id").doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** One line per product with the quantities summed, in product order. */
export function merged(items: readonly Line[]): Line[] {
  const byProduct = new Map<string, number>();
  for (const { productId, quantity } of items) byProduct.set(productId, (byProduct.get(productId) ?? 0) + quantity);
  return [...byProduct]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantity]) => ({ productId, quantity }));
}

export function itemsOf(row: ReservationRow): Line[] {
  return JSON.parse(row.items) as Line[];
}

function expiryOf(row: ReservationRow): string {
  if (row.expires_at === null) throw new Error(`reservation ${row.id} holds stock but has no expiry`);
  return row.expires_at;
}

function released(reservationId: string) {
  return inventory.error("RESERVATION_RELEASED", `reservation ${reservationId} was released or expired`, {
    reservationId,
  });
}

function settledNowhere(reservationId: string): Error {
  return new Error(`reservation ${reservationId} changed under every attempt to read it`);
}
