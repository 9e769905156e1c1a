/** @module The `sales` projection: units sold per product, in the catalog's own database, from orders' events. */
import { defineProjection } from "@flotilla/data";
import { orders } from "../orders/contract.js";
import type { CatalogTables } from "./schema.js";

export const salesProjection = defineProjection<CatalogTables, { orderPlaced: typeof orders.OrderPlaced }>({
  name: "sales",
  handlers: {
    orderPlaced: {
      event: orders.OrderPlaced,
      async handle({ items }, ctx) {
        const units = new Map<string, number>();
        for (const item of items) units.set(item.productId, (units.get(item.productId) ?? 0) + item.quantity);
        for (const [productId, quantity] of units) {
          await ctx.db
            .insertInto("product_sales")
            .values({ product_id: productId, units: quantity, orders: 1 })
            .onConflict((oc) =>
              oc.column("product_id").doUpdateSet((eb) => ({
                units: eb("product_sales.units", "+", quantity),
                orders: eb("product_sales.orders", "+", 1),
              })),
            )
            .execute();
        }
      },
    },
  },
  reset: async (db) => {
    await db.deleteFrom("product_sales").execute();
  },
});
