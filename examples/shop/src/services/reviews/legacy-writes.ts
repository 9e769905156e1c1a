/**
 * @module Where a review is written: in the legacy while it still takes the writes (the service forwards
 * it there and copies the answer at once), here once they moved. One place at a time: never both.
 */
import type { Context } from "@flotilla/core";
import { type Span, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { type Kysely, sql } from "kysely";
import { Review, reviews } from "./contract.js";
import { importReviews, seqOf } from "./review-store.js";
import type { ReviewsTables } from "./schema.js";

type Db = Kysely<ReviewsTables>;

/** The header the monolith reads its author from (it trusts whoever sends it: only this service and the gateway do). */
const USER_HEADER = "x-user-id";

/** Where writes go now, from the database (the same at every instance). */
export async function writesTo(db: Db): Promise<"legacy" | "service"> {
  const row = await db
    .selectFrom("review_sync")
    .select("writes_to")
    .where("name", "=", "legacy")
    .executeTakeFirstOrThrow();
  return row.writes_to === "service" ? "service" : "legacy";
}

/**
 * Posts the review to the legacy as `author`, and copies the legacy's answer here in the same breath,
 * so the review reads back at once from either side. The legacy's 400 is INVALID_REVIEW with its
 * message; no answer, or any other, is LEGACY_UNAVAILABLE (nothing was stored here).
 */
export async function forwardToLegacy(
  db: Db,
  legacyUrl: string,
  review: { productId: string; author: string; rating: number; body: string },
  ctx: Context,
): Promise<Review> {
  const url = `${legacyUrl}/products/${encodeURIComponent(review.productId)}/reviews`;
  const attributes = { "http.request.method": "POST", "url.full": url };
  const span = ctx.startSpan("POST", { kind: SpanKind.CLIENT, attributes });
  let stored: Review;
  try {
    stored = await postToLegacy(url, review, span);
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
  await db.transaction().execute(async (trx) => {
    const { conflicts } = await importReviews(trx, [stored]);
    const n = seqOf(stored);
    await trx
      .updateTable("review_sync")
      .set({
        legacy_last_id: sql`case when legacy_last_id < ${n} then ${n} else legacy_last_id end`,
        conflicts: sql`conflicts + ${conflicts.length}`,
      })
      .where("name", "=", "legacy")
      .execute();
    if (conflicts.length > 0)
      ctx.log.error({ review: stored }, "forwarded review skipped: the service gave its id to a review of its own");
  });
  return stored;
}

async function postToLegacy(
  url: string,
  review: { author: string; rating: number; body: string },
  span: Span,
): Promise<Review> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [USER_HEADER]: review.author,
        // The monolith's own tracing (if any) continues the shop's trace.
        traceparent: traceparentOf(span),
      },
      body: JSON.stringify({ rating: review.rating, body: review.body }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw reviews.error("LEGACY_UNAVAILABLE", `the legacy did not answer: ${(err as Error).message}`);
  }
  span.setAttribute("http.response.status_code", res.status);
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  if (res.status === 400 && body?.error?.code === "INVALID_REVIEW") {
    throw reviews.error("INVALID_REVIEW", body.error.message ?? "invalid review");
  }
  const created = res.status === 201 ? Review.safeParse(body) : undefined;
  if (!created?.success)
    throw reviews.error("LEGACY_UNAVAILABLE", `the legacy answered ${res.status} without a review`);
  return created.data;
}

/** The W3C `traceparent` naming `span` as the parent of the monolith's work. */
function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`;
}
