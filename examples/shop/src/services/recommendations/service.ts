/**
 * @module The recommendations service: "customers who bought what you bought also bought", answered
 * from its own read model of confirmed orders, never by calling orders.
 */
import { defineService } from "@flotilla/core";
import { database } from "@flotilla/data";
import { boughtTogetherProjection } from "./bought-together.js";
import { recommendations } from "./contract.js";
import { type RecommendationsTables, recommendationsMigrations } from "./schema.js";
import { boughtWith, boughtWithYours, popular } from "./scoring.js";

export const recommendationsService = defineService(recommendations, {
  // Calls no other service: a call to one is refused, and its NATS credentials allow none (docs/security.md).
  calls: [],
  database: database<RecommendationsTables>({ migrations: recommendationsMigrations }),
  projections: [boughtTogetherProjection],

  actions: {
    async forMe({ limit }, ctx) {
      if (ctx.caller === undefined) {
        throw recommendations.error("SIGN_IN_REQUIRED", "recommendations are for a signed-in caller");
      }
      const customerId = ctx.caller.subject;
      const fromHistory = await boughtWithYours(ctx.db, customerId, limit);
      if (fromHistory.length > 0) return { items: fromHistory, basis: "history" as const };
      // No history, or one no other customer shares yet: the most bought products, less the caller's own.
      return { items: await popular(ctx.db, customerId, limit), basis: "popular" as const };
    },
    async alsoBought({ productId, limit }, ctx) {
      return { items: await boughtWith(ctx.db, productId, limit) };
    },
  },
});
