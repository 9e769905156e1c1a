/**
 * @module The reviews service, extracted from the legacy monolith (the strangler fig): it answers as the
 * legacy does, copies the legacy's reviews while the legacy still takes the writes, and takes them once
 * they move here (docs/strangler.md).
 */
import { type Context, defineService, type ServiceDefinition } from "@flotilla/core";
import { database } from "@flotilla/data";
import { intFromEnv } from "../env-int.js";
import { reviews } from "./contract.js";
import { LegacySync, syncStatus } from "./legacy-sync.js";
import { forwardToLegacy, writesTo } from "./legacy-writes.js";
import { productReviews, reviewInput, storeReview } from "./review-store.js";
import { type ReviewsTables, reviewsMigrations } from "./schema.js";

/** Where the monolith runs when nothing says otherwise (its own `npm start`). */
const LEGACY_ORIGIN = "http://127.0.0.1:8081";

export interface ReviewsOptions {
  /** The monolith to copy from (default: the first of FLOTILLA_UPSTREAM_LEGACY, as the gateway reads it, else LEGACY_ORIGIN). */
  legacyUrl?: string;
  /** Pause between two sync passes in ms (default REVIEWS_SYNC_EVERY_MS, else 1000). */
  syncEveryMs?: number;
}

/** The service with its options; `reviewsService` is this with the environment's. */
export function createReviewsService(options: ReviewsOptions = {}): ServiceDefinition {
  const legacyUrl = options.legacyUrl ?? process.env.FLOTILLA_UPSTREAM_LEGACY?.split(",")[0]?.trim() ?? LEGACY_ORIGIN;
  const everyMs = options.syncEveryMs ?? intFromEnv("REVIEWS_SYNC_EVERY_MS", 1_000, { min: 50, max: 3_600_000 });
  // Per instance, so two hosts in one process (tests) each sync into their own database.
  const syncs = new Map<string, LegacySync>();
  const syncOf = (ctx: Context) => syncs.get(ctx.instance ?? "") as LegacySync;

  return defineService(reviews, {
    // Calls no other service (the monolith is reached over HTTP, not as an action).
    calls: [],
    database: database<ReviewsTables>({ migrations: reviewsMigrations }),

    async start(ctx) {
      const sync = new LegacySync(ctx.db, { legacyUrl, everyMs, log: ctx.log, tracer: ctx.tracer });
      syncs.set(ctx.instance ?? "", sync);
      sync.start();
      ctx.log.info({ legacy: legacyUrl }, "copying reviews from the legacy monolith while it takes the writes");
    },

    async stop(ctx) {
      const sync = syncs.get(ctx.instance ?? "");
      syncs.delete(ctx.instance ?? "");
      await sync?.stop();
    },

    actions: {
      async listReviews({ productId }, ctx) {
        return productReviews(ctx.db, productId);
      },

      async addReview(input, ctx) {
        if (ctx.caller === undefined) throw reviews.error("SIGN_IN_REQUIRED", "sign in to review");
        const { rating, body } = reviewInput(input.rating, input.body);
        const review = { productId: input.productId, author: ctx.caller.subject, rating, body };
        if ((await writesTo(ctx.db)) === "legacy") return forwardToLegacy(ctx.db, legacyUrl, review, ctx);
        return storeReview(ctx.db, review);
      },

      async syncStatus(_input, ctx) {
        adminOnly(ctx);
        return syncStatus(ctx.db);
      },

      async syncNow(_input, ctx) {
        adminOnly(ctx);
        try {
          return await syncOf(ctx).passNow();
        } catch (err) {
          throw reviews.error("LEGACY_UNAVAILABLE", (err as Error).message, { legacy: legacyUrl });
        }
      },

      async setWrites({ to }, ctx) {
        adminOnly(ctx);
        if (to === "service") {
          // Legacy writes made before the move are copied first; a write forwarded meanwhile copies itself.
          await syncOf(ctx)
            .passNow()
            .catch((err: Error) => {
              throw reviews.error("LEGACY_UNAVAILABLE", `writes stay with the legacy: ${err.message}`);
            });
        }
        await ctx.db
          .updateTable("review_sync")
          .set({ writes_to: to, enabled: to === "service" ? 0 : 1 })
          .where("name", "=", "legacy")
          .execute();
        ctx.log.info({ to }, "reviews writes moved");
        return syncStatus(ctx.db);
      },

      async setSync({ enabled }, ctx) {
        adminOnly(ctx);
        await ctx.db
          .updateTable("review_sync")
          .set({ enabled: enabled ? 1 : 0 })
          .where("name", "=", "legacy")
          .execute();
        ctx.log.info({ enabled }, "reviews sync turned");
        return syncStatus(ctx.db);
      },
    },
  });
}

export const reviewsService = createReviewsService();

/** The gateway lets only admins here; no caller at all is the shop's own work (a script), which may. */
function adminOnly(ctx: Context): void {
  if (ctx.caller !== undefined && !ctx.caller.roles.includes("admin")) {
    throw reviews.error("PERMISSION_DENIED", "the reviews sync needs the admin role");
  }
}
