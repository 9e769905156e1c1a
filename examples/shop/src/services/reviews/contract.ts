/**
 * @module The reviews contract, written from the legacy monolith's answers: the same shapes and error
 * codes, so a client cannot tell which of the two served it (docs/strangler.md).
 */
import { action, defineContract } from "@flotilla/core";
import { z } from "zod";

export const Review = z.object({
  /** `rev-<n>`: the legacy's numbering, continued by the service once it takes the writes. */
  id: z.string(),
  productId: z.string(),
  /** The author's user id. */
  author: z.string(),
  /** 1 to 5. */
  rating: z.number().int(),
  body: z.string(),
  /** ISO 8601. */
  createdAt: z.string(),
});
export type Review = z.infer<typeof Review>;

export const ProductReviews = z.object({
  productId: z.string(),
  /** Oldest first. */
  items: z.array(Review),
  count: z.number().int(),
  /** The mean rating to one decimal (half away from zero, as the legacy rounds); null without reviews. */
  averageRating: z.number().nullable(),
});
export type ProductReviews = z.infer<typeof ProductReviews>;

export const SyncStatus = z.object({
  /** Where new reviews are written: `legacy` (forwarded, then copied here at once) or `service`. */
  writesTo: z.enum(["legacy", "service"]),
  /** Reviews written here since writes moved: the legacy does not have them. */
  ownReviews: z.number().int(),
  /** Whether this service copies new legacy reviews (on until the writes have moved to it). */
  enabled: z.boolean(),
  /** The numeric part of the last legacy review copied (the sync's cursor). */
  lastId: z.number().int(),
  /** The legacy's newest review id, as its last page said. */
  legacyLastId: z.number().int(),
  /** Legacy reviews not copied yet, as far as the last pass knows. */
  behind: z.number().int(),
  /** Reviews copied so far. */
  imported: z.number().int(),
  /** Legacy reviews whose id the service had already given one of its own: skipped, never overwritten. */
  conflicts: z.number().int(),
  lastPassAt: z.string().nullable(),
  /** Why the last pass failed (null when it did not). */
  lastError: z.string().nullable(),
});
export type SyncStatus = z.infer<typeof SyncStatus>;

const ProductId = z.string().min(1).max(200);

export const reviews = defineContract({
  service: "reviews",
  version: "1.0.0",
  actions: {
    listReviews: action({
      description: "A product's reviews, oldest first, with their count and average rating",
      input: z.object({ productId: ProductId }),
      output: ProductReviews,
      idempotent: true,
    }),
    addReview: action({
      description:
        "Adds the caller's review of a product (the caller is its author): in the legacy until writes move here",
      // Checked by the service, not the schema: a bad review is INVALID_REVIEW, as the legacy answered it.
      input: z.object({
        productId: ProductId,
        rating: z.unknown().optional().describe("a whole number from 1 to 5"),
        body: z.unknown().optional().describe("text of 1 to 2000 characters"),
      }),
      output: Review,
    }),
    syncStatus: action({
      description: "Admin: how far the copy of the legacy's reviews has come",
      input: z.object({}),
      output: SyncStatus,
      idempotent: true,
    }),
    syncNow: action({
      description: "Admin: copies every legacy review not copied yet, now, and answers the status after it",
      input: z.object({}),
      output: SyncStatus,
    }),
    setWrites: action({
      description:
        "Admin: moves writes to the service (after a last sync pass; the sync then stops) or back to the legacy",
      input: z.object({ to: z.enum(["legacy", "service"]) }),
      output: SyncStatus,
    }),
    setSync: action({
      description: "Admin: turns the copy from the legacy on or off (off once writes have moved to the service)",
      input: z.object({ enabled: z.boolean() }),
      output: SyncStatus,
    }),
  },
  events: {},
  errors: {
    INVALID_REVIEW: "INVALID_ARGUMENT",
    SIGN_IN_REQUIRED: "UNAUTHENTICATED",
    PERMISSION_DENIED: "PERMISSION_DENIED",
    /** A sync pass asked for now could not read the legacy. */
    LEGACY_UNAVAILABLE: "UNAVAILABLE",
  },
});
