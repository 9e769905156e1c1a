/** @module The catalog's own tables and their migrations. */
import type { Kysely } from "kysely";

export interface CatalogTables {
  products: {
    id: string;
    name: string;
    description: string;
    price: number;
    currency: string;
    created_at: string;
  };
  /** The `sales` projection: units sold per product, built from orders' OrderPlaced events. */
  product_sales: {
    product_id: string;
    units: number;
    orders: number;
  };
}

export const catalogMigrations = {
  "001_products": {
    // Migrations are written against Kysely<any>: they describe history, not today's types.
    // biome-ignore lint/suspicious/noExplicitAny: see above
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("products")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("description", "text", (c) => c.notNull())
        .addColumn("price", "integer", (c) => c.notNull())
        .addColumn("currency", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
    },
  },
  "002_product_sales": {
    // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("product_sales")
        .addColumn("product_id", "text", (c) => c.primaryKey())
        .addColumn("units", "integer", (c) => c.notNull())
        .addColumn("orders", "integer", (c) => c.notNull())
        .execute();
    },
  },
};
