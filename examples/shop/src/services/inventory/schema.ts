/** @module The inventory's own tables and their migrations. */
import { type Kysely, sql } from "kysely";

export type ReservationStatus = "active" | "committed" | "released" | "expired";

export interface InventoryTables {
  /** Units per product; what can still be reserved is `on_hand - reserved`. */
  stock: {
    product_id: string;
    on_hand: number;
    /** Units held by active reservations (never negative: a check constraint says so). */
    reserved: number;
    updated_at: string;
  };
  reservations: {
    /** The caller's reservationId (a saga step id). */
    id: string;
    /** Null for a tombstone: a release that arrived before any reserve with its id. */
    order_id: string | null;
    status: ReservationStatus;
    /** The lines as reserved, JSON `[{productId, quantity}]`; `[]` for a tombstone. */
    items: string;
    /** ISO-8601 UTC (`toISOString`, so text order is time order); null for a tombstone. */
    expires_at: string | null;
    created_at: string;
    updated_at: string;
  };
}

export const inventoryMigrations = {
  "001_stock_and_reservations": {
    // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("stock")
        .addColumn("product_id", "text", (c) => c.primaryKey())
        .addColumn("on_hand", "integer", (c) => c.notNull())
        .addColumn("reserved", "integer", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        // A second give-back of the same units would fail here instead of inventing stock.
        .addCheckConstraint("stock_reserved_not_negative", sql`reserved >= 0`)
        .execute();
      await db.schema
        .createTable("reservations")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("order_id", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("items", "text", (c) => c.notNull())
        .addColumn("expires_at", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      // What the expiry sweep looks for: active holds past their time.
      await db.schema
        .createIndex("reservations_status_expires")
        .on("reservations")
        .columns(["status", "expires_at"])
        .execute();
    },
  },
};
