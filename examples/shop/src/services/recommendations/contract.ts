/** @module The recommendations contract: "bought together" from confirmed orders (a read model). */
import { action, defineContract } from "@flotilla/core";
import { z } from "zod";

export const recommendations = defineContract({
  service: "recommendations",
  version: "1.0.0",
  actions: {
    forMe: action({
      description:
        "Products others bought together with what the caller bought, best first, leaving out what the caller has; popular products when there is no history",
      input: z.object({ limit: z.coerce.number().int().min(1).max(50).default(10) }),
      output: z.object({
        items: z.array(z.object({ productId: z.string(), score: z.number() })),
        /** `history`: from the caller's orders; `popular`: the caller has none yet. */
        basis: z.enum(["history", "popular"]),
      }),
      idempotent: true,
    }),
    alsoBought: action({
      description:
        "Products customers who bought this one also bought, best first (a product page's suggestions); anyone may ask",
      input: z.object({
        productId: z.string().min(1).max(100),
        limit: z.coerce.number().int().min(1).max(50).default(10),
      }),
      output: z.object({ items: z.array(z.object({ productId: z.string(), score: z.number() })) }),
      idempotent: true,
    }),
  },
  errors: {
    SIGN_IN_REQUIRED: "UNAUTHENTICATED",
  },
});
