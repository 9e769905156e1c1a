/** @module The reviews table: a product's reviews, the service's own writes, and the copies of the legacy's. */
import type { Kysely } from "kysely";
import { type ProductReviews, type Review, reviews } from "./contract.js";
import type { ReviewsTables } from "./schema.js";

type Db = Kysely<ReviewsTables>;
type Row = ReviewsTables["reviews"];

/** A product's reviews, oldest first, as the legacy lists them: an unknown product simply has none. */
export async function productReviews(db: Db, productId: string): Promise<ProductReviews> {
  const rows = await db.selectFrom("reviews").selectAll().where("product_id", "=", productId).orderBy("seq").execute();
  const items = rows.map(toReview);
  const total = items.reduce((sum, r) => sum + r.rating, 0);
  const averageRating = items.length === 0 ? null : Math.round((total / items.length) * 10) / 10;
  return { productId, items, count: items.length, averageRating };
}

/** The legacy's checks, messages included: a client sees the same 400 whichever side served it. */
export function reviewInput(rating: unknown, body: unknown): { rating: number; body: string } {
  if (typeof rating !== "number" || !Number.isInteger(rating) || rating < 1 || rating > 5) {
    throw reviews.error("INVALID_REVIEW", "rating must be a whole number from 1 to 5");
  }
  if (typeof body !== "string" || body.trim() === "" || body.length > 2000) {
    throw reviews.error("INVALID_REVIEW", "body must be text of 1 to 2000 characters");
  }
  return { rating, body: body.trim() };
}

/**
 * Stores a review written here. Its number follows both the highest stored and the legacy's newest
 * known id, so it never takes an id the legacy gave (even one not copied yet).
 */
export async function storeReview(
  db: Db,
  review: { productId: string; author: string; rating: number; body: string },
): Promise<Review> {
  return db.transaction().execute(async (trx) => {
    const { top } = await trx
      .selectFrom("reviews")
      .select((eb) => eb.fn.max("seq").as("top"))
      .executeTakeFirstOrThrow();
    const sync = await trx.selectFrom("review_sync").select("legacy_last_id").executeTakeFirstOrThrow();
    const seq = Math.max(Number(top ?? 0), Number(sync.legacy_last_id)) + 1;
    const row: Row = {
      seq,
      id: `rev-${seq}`,
      product_id: review.productId,
      author: review.author,
      rating: review.rating,
      body: review.body,
      created_at: new Date().toISOString(),
      origin: "service",
    };
    await trx.insertInto("reviews").values(row).execute();
    return toReview(row);
  });
}

/**
 * Copies legacy reviews, as they are (ids included). One already copied is left alone (another
 * instance's pass got it first); one whose id the service gave its own review is a conflict: skipped,
 * never overwritten. Answers how many were copied and which conflicted. Run it in the transaction
 * that moves the sync's cursor.
 */
export async function importReviews(
  db: Db,
  items: readonly Review[],
): Promise<{ imported: number; conflicts: Review[] }> {
  if (items.length === 0) return { imported: 0, conflicts: [] };
  const seqs = items.map(seqOf);
  const existing = await db.selectFrom("reviews").select(["seq", "origin"]).where("seq", "in", seqs).execute();
  const taken = new Map(existing.map((r) => [Number(r.seq), r.origin]));
  const fresh = items.filter((r) => !taken.has(seqOf(r)));
  const conflicts = items.filter((r) => taken.get(seqOf(r)) === "service");
  if (fresh.length > 0) {
    await db
      .insertInto("reviews")
      .values(
        fresh.map((r) => ({
          seq: seqOf(r),
          id: r.id,
          product_id: r.productId,
          author: r.author,
          rating: r.rating,
          body: r.body,
          created_at: r.createdAt,
          origin: "legacy",
        })),
      )
      .execute();
  }
  return { imported: fresh.length, conflicts };
}

/** The number in `rev-<n>`. */
export function seqOf(review: Pick<Review, "id">): number {
  return Number(review.id.slice("rev-".length));
}

function toReview(row: Row): Review {
  return {
    id: row.id,
    productId: row.product_id,
    author: row.author,
    rating: Number(row.rating),
    body: row.body,
    createdAt: row.created_at,
  };
}
