/** @module Scoring recommendations from the `bought-together` read model. */
import { type Kysely, sql } from "kysely";
import type { RecommendationsTables } from "./schema.js";

type Db = Kysely<RecommendationsTables>;

export interface Scored {
  productId: string;
  score: number;
}

/**
 * Products the customer does not have, scored by how many customers bought them together with each
 * product the customer has (summed over those products), best first, ties by product id.
 */
export async function boughtWithYours(db: Db, customerId: string, limit: number): Promise<Scored[]> {
  const rows = await db
    .selectFrom("customer_products as mine")
    .innerJoin("co_purchases as pair", "pair.product_id", "mine.product_id")
    .select(["pair.other_id as productId", (eb) => eb.fn.sum<number>("pair.customers").as("score")])
    .where("mine.customer_id", "=", customerId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("customer_products as owned")
            .select(sql`1`.as("one"))
            .where("owned.customer_id", "=", customerId)
            .whereRef("owned.product_id", "=", "pair.other_id"),
        ),
      ),
    )
    .groupBy("pair.other_id")
    .orderBy("score", "desc")
    .orderBy("pair.other_id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ productId: r.productId, score: Number(r.score) }));
}

/** The most bought products by units, leaving out the customer's own; ties by product id. */
export async function popular(db: Db, customerId: string, limit: number): Promise<Scored[]> {
  const rows = await db
    .selectFrom("product_popularity as p")
    .select(["p.product_id as productId", "p.units as score"])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("customer_products as owned")
            .select(sql`1`.as("one"))
            .where("owned.customer_id", "=", customerId)
            .whereRef("owned.product_id", "=", "p.product_id"),
        ),
      ),
    )
    .orderBy("p.units", "desc")
    .orderBy("p.product_id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ productId: r.productId, score: Number(r.score) }));
}

/** Products bought by the same customers as `productId`, scored by how many customers hold both; ties by product id. */
export async function boughtWith(db: Db, productId: string, limit: number): Promise<Scored[]> {
  const rows = await db
    .selectFrom("co_purchases")
    .select(["other_id as productId", "customers as score"])
    .where("product_id", "=", productId)
    .orderBy("customers", "desc")
    .orderBy("other_id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ productId: r.productId, score: Number(r.score) }));
}
