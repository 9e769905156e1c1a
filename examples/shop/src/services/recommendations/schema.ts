/** @module The recommendations service's tables (all of them the `bought-together` read model) and their migrations. */
import type { Kysely } from "kysely";

export interface RecommendationsTables {
  /** Confirmed orders per customer; its row is also what serializes one customer's orders (bought-together.ts). */
  customers: {
    customer_id: string;
    orders: number;
  };
  /** Each customer's set of products bought, from confirmed orders. */
  customer_products: {
    customer_id: string;
    product_id: string;
  };
  /**
   * Per ordered pair of products, how many customers bought both (in one order or in different
   * ones); stored both ways round, so a product's neighbours are one index range.
   */
  co_purchases: {
    product_id: string;
    other_id: string;
    customers: number;
  };
  /** Units and confirmed orders per product: the "popular" answer for a customer with no history. */
  product_popularity: {
    product_id: string;
    units: number;
    orders: number;
  };
  /** Orders already counted: a second OrderConfirmed for one order (a new event id) changes nothing. */
  applied_orders: {
    order_id: string;
  };
}

export const recommendationsMigrations = {
  "001_bought_together": {
    // Migrations are written against Kysely<any>: they describe history, not today's types.
    // biome-ignore lint/suspicious/noExplicitAny: see above
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("customers")
        .addColumn("customer_id", "text", (c) => c.primaryKey())
        .addColumn("orders", "integer", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("customer_products")
        .addColumn("customer_id", "text", (c) => c.notNull())
        .addColumn("product_id", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("customer_products_pk", ["customer_id", "product_id"])
        .execute();
      await db.schema
        .createTable("co_purchases")
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("other_id", "text", (c) => c.notNull())
        .addColumn("customers", "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("co_purchases_pk", ["product_id", "other_id"])
        .execute();
      await db.schema
        .createTable("product_popularity")
        .addColumn("product_id", "text", (c) => c.primaryKey())
        .addColumn("units", "integer", (c) => c.notNull())
        .addColumn("orders", "integer", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("applied_orders")
        .addColumn("order_id", "text", (c) => c.primaryKey())
        .execute();
    },
  },
};
