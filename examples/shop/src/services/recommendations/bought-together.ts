/**
 * @module The `bought-together` projection: what each customer bought, and how many customers bought
 * each pair of products, from orders' OrderConfirmed events (rebuildable with `flotilla replay`).
 *
 * Co-purchase means "bought by the same customer", in one order or across orders: a pair counts once
 * per customer, the first time that customer holds both. Buying a product again adds nothing to its
 * pairs, so one loyal customer's repeat orders do not outweigh many customers' choices.
 */
import { defineProjection } from "@flotilla/data";
import type { Kysely } from "kysely";
import { orders } from "../orders/contract.js";
import type { RecommendationsTables } from "./schema.js";

type Db = Kysely<RecommendationsTables>;

/** Rows per insert: three parameters each, well under SQLite's and PostgreSQL's limits. */
const CHUNK = 500;

export const boughtTogetherProjection = defineProjection<
  RecommendationsTables,
  { orderConfirmed: typeof orders.OrderConfirmed }
>({
  name: "bought-together",
  handlers: {
    orderConfirmed: {
      event: orders.OrderConfirmed,
      async handle({ orderId, customerId, items }, ctx) {
        const first = await ctx.db
          .insertInto("applied_orders")
          .values({ order_id: orderId })
          .onConflict((oc) => oc.column("order_id").doNothing())
          .executeTakeFirst();
        if (Number(first.numInsertedOrUpdatedRows ?? 0n) === 0) return;
        // Counting the order first takes the customer's row lock (on PostgreSQL): two of their orders
        // handled at once then apply one after the other, and the second sees the first's products;
        // otherwise each would miss the pairs formed with the other's.
        await ctx.db
          .insertInto("customers")
          .values({ customer_id: customerId, orders: 1 })
          .onConflict((oc) =>
            oc.column("customer_id").doUpdateSet((eb) => ({ orders: eb("customers.orders", "+", 1) })),
          )
          .execute();
        const units = new Map<string, number>();
        for (const item of items) units.set(item.productId, (units.get(item.productId) ?? 0) + item.quantity);
        await countPopularity(ctx.db, units);
        await addToCustomer(ctx.db, customerId, [...units.keys()]);
      },
    },
  },
  reset: async (db) => {
    const tables = ["customers", "customer_products", "co_purchases", "product_popularity", "applied_orders"] as const;
    for (const table of tables) {
      await db.deleteFrom(table).execute();
    }
  },
});

/**
 * Rows shared between customers are updated in product order, here and in the pairs below, so two
 * orders' transactions take their row locks in one order and cannot deadlock (PostgreSQL).
 */
async function countPopularity(db: Db, units: ReadonlyMap<string, number>): Promise<void> {
  for (const [productId, quantity] of [...units].sort(([a], [b]) => compare(a, b))) {
    await db
      .insertInto("product_popularity")
      .values({ product_id: productId, units: quantity, orders: 1 })
      .onConflict((oc) =>
        oc.column("product_id").doUpdateSet((eb) => ({
          units: eb("product_popularity.units", "+", quantity),
          orders: eb("product_popularity.orders", "+", 1),
        })),
      )
      .execute();
  }
}

/** Adds the order's products to the customer's set, and counts the pairs this customer now holds for the first time. */
async function addToCustomer(db: Db, customerId: string, productIds: readonly string[]): Promise<void> {
  const held = await db
    .selectFrom("customer_products")
    .select("product_id")
    .where("customer_id", "=", customerId)
    .execute();
  const before = new Set(held.map((r) => r.product_id));
  const added = [...new Set(productIds)].filter((id) => !before.has(id)).sort();
  if (added.length === 0) return;
  await db
    .insertInto("customer_products")
    .values(added.map((product_id) => ({ customer_id: customerId, product_id })))
    .execute();
  // New pairs: each added product with each one held before, and the added ones among themselves.
  const pairs: Array<{ product_id: string; other_id: string; customers: number }> = [];
  const pair = (a: string, b: string) => {
    pairs.push({ product_id: a, other_id: b, customers: 1 }, { product_id: b, other_id: a, customers: 1 });
  };
  for (const [i, a] of added.entries()) {
    for (const b of before) pair(a, b);
    for (const b of added.slice(i + 1)) pair(a, b);
  }
  pairs.sort((x, y) => compare(x.product_id, y.product_id) || compare(x.other_id, y.other_id));
  for (let i = 0; i < pairs.length; i += CHUNK) {
    await db
      .insertInto("co_purchases")
      .values(pairs.slice(i, i + CHUNK))
      .onConflict((oc) =>
        oc.columns(["product_id", "other_id"]).doUpdateSet((eb) => ({
          customers: eb("co_purchases.customers", "+", 1),
        })),
      )
      .execute();
  }
}

/** By code unit, as the product ids compare in the database's text order (not by locale). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
