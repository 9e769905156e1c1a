/** @module The reviews service's own tables and their migrations. */
import type { Kysely } from "kysely";

export interface ReviewsTables {
  reviews: {
    /** The numeric part of the id: the legacy's for copied reviews, the next free one for the service's own. */
    seq: number;
    id: string;
    product_id: string;
    author: string;
    rating: number;
    body: string;
    created_at: string;
    /** `legacy` (copied) or `service` (written here). */
    origin: string;
  };
  /** One row (`name` = 'legacy'): the sync's cursor and counters and where writes go, shared by every instance. */
  review_sync: {
    name: string;
    /** `legacy` (forwarded there, then copied here) or `service` (stored here only). */
    writes_to: string;
    enabled: number;
    last_id: number;
    legacy_last_id: number;
    imported: number;
    conflicts: number;
    last_pass_at: string | null;
    last_error: string | null;
  };
}

export const reviewsMigrations = {
  "001_reviews": {
    // Migrations are written against Kysely<any>: they describe history, not today's types.
    // biome-ignore lint/suspicious/noExplicitAny: see above
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("reviews")
        .addColumn("seq", "bigint", (c) => c.primaryKey())
        .addColumn("id", "text", (c) => c.notNull().unique())
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("author", "text", (c) => c.notNull())
        .addColumn("rating", "integer", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("origin", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("reviews_by_product").on("reviews").columns(["product_id", "seq"]).execute();
      await db.schema
        .createTable("review_sync")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("writes_to", "text", (c) => c.notNull())
        .addColumn("enabled", "integer", (c) => c.notNull())
        .addColumn("last_id", "bigint", (c) => c.notNull())
        .addColumn("legacy_last_id", "bigint", (c) => c.notNull())
        .addColumn("imported", "bigint", (c) => c.notNull())
        .addColumn("conflicts", "bigint", (c) => c.notNull())
        .addColumn("last_pass_at", "text")
        .addColumn("last_error", "text")
        .execute();
      await db
        .insertInto("review_sync")
        .values({
          name: "legacy",
          writes_to: "legacy",
          enabled: 1,
          last_id: 0,
          legacy_last_id: 0,
          imported: 0,
          conflicts: 0,
        })
        .execute();
    },
  },
};
