/** @module The shipping service's own tables and their migrations. */
import type { Kysely } from "kysely";

export type ShipmentStatus = "booked" | "cancelled" | "dispatched";

export interface ShippingTables {
  shipments: {
    /** The caller's shipmentId (a saga step id). */
    id: string;
    /** Null (like the address) for a tombstone: a cancellation that arrived before any booking. */
    order_id: string | null;
    customer_id: string | null;
    name: string | null;
    street: string | null;
    city: string | null;
    /** ISO 3166 alpha-2, upper case. */
    country: string | null;
    /** JSON `[{productId, quantity}]`; `[]` for a tombstone. */
    items: string;
    status: ShipmentStatus;
    /** When a booked shipment is due to leave: set once its order is confirmed, null until then. */
    dispatch_at: string | null;
    dispatched_at: string | null;
    created_at: string;
    updated_at: string;
  };
}

export const shippingMigrations = {
  "001_shipments": {
    // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("shipments")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("order_id", "text")
        .addColumn("customer_id", "text")
        .addColumn("name", "text")
        .addColumn("street", "text")
        .addColumn("city", "text")
        .addColumn("country", "text")
        .addColumn("items", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("dispatch_at", "text")
        .addColumn("dispatched_at", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      // An order's confirmation finds its shipments by order; the dispatch sweep finds the due ones.
      await db.schema.createIndex("shipments_order").on("shipments").column("order_id").execute();
      await db.schema
        .createIndex("shipments_status_dispatch_at")
        .on("shipments")
        .columns(["status", "dispatch_at"])
        .execute();
    },
  },
};
