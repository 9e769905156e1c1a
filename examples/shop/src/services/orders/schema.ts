/** @module The orders service's own tables and their migrations. */
import { type Kysely, sql } from "kysely";
import { type BuyersTable, buyersMigration } from "./buyers.js";

export interface OrdersTables {
  /** The copy of identity's profiles (choreography), see buyers.ts. */
  buyers: BuyersTable;
  orders: {
    id: string;
    customer_id: string | null;
    status: string;
    total: number;
    currency: string;
    failure_reason: string | null;
    /**
     * Written by orders' own idempotency code before the runtime kept keys (flotilla_idempotency); no
     * longer written. Kept, with its unique index, for the orders placed before (see docs/shop.md).
     */
    idempotency_key: string | null;
    created_at: string;
    updated_at: string;
  };
  order_items: {
    order_id: string;
    line: number;
    product_id: string;
    name: string;
    quantity: number;
    unit_price: number;
  };
}

export const ordersMigrations = {
  "001_orders": {
    // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("orders")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("customer_id", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("total", "integer", (c) => c.notNull())
        .addColumn("currency", "text", (c) => c.notNull())
        .addColumn("failure_reason", "text")
        .addColumn("idempotency_key", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      // One order per (customer, key); anonymous orders share the '' customer for the key's scope.
      await db.schema
        .createIndex("orders_idempotency")
        .on("orders")
        .expression(sql`coalesce(customer_id, ''), idempotency_key`)
        .unique()
        .where(sql.ref("idempotency_key"), "is not", null)
        .execute();
      await db.schema
        .createIndex("orders_customer_created")
        .on("orders")
        .columns(["customer_id", "created_at"])
        .execute();
      await db.schema
        .createTable("order_items")
        .addColumn("order_id", "text", (c) => c.notNull().references("orders.id").onDelete("cascade"))
        .addColumn("line", "integer", (c) => c.notNull())
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("quantity", "integer", (c) => c.notNull())
        .addColumn("unit_price", "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("order_items_pk", ["order_id", "line"])
        .execute();
    },
  },
  "002_buyers": buyersMigration,
};
