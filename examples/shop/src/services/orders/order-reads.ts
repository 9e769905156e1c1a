/** @module Reading orders back: one order as the API shows it, and a customer's orders newest first. */
import type { Kysely } from "kysely";
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
  let query = db
    .selectFrom("orders")
    .selectAll()
    .where("customer_id", "=", customerId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(limit + 1);
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    query = query.where((eb) =>
      eb.or([
        eb("created_at", "<", after.createdAt),
        eb.and([eb("created_at", "=", after.createdAt), eb("id", "<", after.id)]),
      ]),
    );
  }
  const rows = await query.execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor = rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null;
  return { items: await toOrders(db, page), nextCursor };
}

// Opaque to clients (base64url JSON), so the encoding can change later.
function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify({ createdAt, id })).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Record<string, unknown>;
    if (typeof value.createdAt === "string" && typeof value.id === "string") {
      return { createdAt: value.createdAt, id: value.id };
    }
  } catch {
    // fall through to the error below
  }
  throw orders.error("INVALID_CURSOR", "cursor is not one this service issued", { cursor });
}
