/** @module Reading orders back: one order as the API shows it, and a customer's orders newest first. */
import type { Kysely } from "kysely";
import { afterCursor, pageOf } from "../newest-first.js";
import { type Order, orders } from "./contract.js";
import type { OrdersTables } from "./schema.js";

type Db = Kysely<OrdersTables>;
type OrderRow = OrdersTables["orders"];

/** The orders of these rows with their lines, in the rows' order: two queries whatever the page size. */
export async function toOrders(db: Db, rows: readonly OrderRow[]): Promise<Order[]> {
  if (rows.length === 0) return [];
  const lines = await db
    .selectFrom("order_items")
    .selectAll()
    .where(
      "order_id",
      "in",
      rows.map((r) => r.id),
    )
    .orderBy("order_id")
    .orderBy("line")
    .execute();
  const byOrder = new Map<string, Order["items"]>();
  for (const l of lines) {
    const items = byOrder.get(l.order_id) ?? [];
    items.push({ productId: l.product_id, name: l.name, quantity: l.quantity, unitPrice: l.unit_price });
    byOrder.set(l.order_id, items);
  }
  return rows.map((row) => ({
    id: row.id,
    status: row.status as Order["status"],
    items: byOrder.get(row.id) ?? [],
    total: row.total,
    currency: row.currency,
    ...(row.failure_reason ? { failureReason: row.failure_reason } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }));
}

/** One page of a customer's orders, newest first; the cursor is the last (createdAt, id) seen. */
export async function customerOrders(
  db: Db,
  customerId: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: Order[]; nextCursor: string | null }> {
  const rows = await db
    .selectFrom("orders")
    .selectAll()
    .where("customer_id", "=", customerId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .where(
      afterCursor(cursor, () => orders.error("INVALID_CURSOR", "cursor is not one this service issued", { cursor })),
    )
    .limit(limit + 1)
    .execute();
  const { page, nextCursor } = pageOf(rows, limit);
  return { items: await toOrders(db, page), nextCursor };
}
