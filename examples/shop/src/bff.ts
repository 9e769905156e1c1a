/**
 * @module The shop's backends for front ends: the same services composed into a web product page and a
 * smaller mobile product answer (docs/aggregation.md, docs/shop.md).
 */
import { composite, type PartBuilder } from "@flotilla/gateway";
import { z } from "zod";
import { catalog } from "./services/catalog/contract.js";
import { inventory } from "./services/inventory/contract.js";
import { recommendations } from "./services/recommendations/contract.js";

/** What the legacy monolith's reviews answer is read as (its other fields are dropped). */
const LegacyReviews = z.object({
  count: z.number(),
  averageRating: z.number().nullable(),
  items: z.array(z.object({ author: z.string(), rating: z.number(), body: z.string(), createdAt: z.string() })),
});

/** The parts both front ends need: the product (required), its stock, reviews and suggestions (optional). */
function productParts(p: PartBuilder<{ readonly id: string }>) {
  return {
    product: p.action(catalog.getProduct, (req) => ({ id: req.params.id }), { timeoutMs: 1_000 }),
    stock: p.action(inventory.stockLevels, (req) => ({ productIds: [req.params.id] }), {
      optional: true,
      timeoutMs: 500,
    }),
    reviews: p.upstream("legacy", (req) => `/products/${encodeURIComponent(req.params.id)}/reviews`, {
      optional: true,
      timeoutMs: 500,
      output: LegacyReviews,
    }),
    recommendations: p.action(recommendations.alsoBought, (req) => ({ productId: req.params.id, limit: 6 }), {
      optional: true,
      timeoutMs: 500,
    }),
  };
}

const Money = { price: z.number().int(), currency: z.string() };

export const WebProductPage = z.object({
  product: z.object({ id: z.string(), name: z.string(), description: z.string(), ...Money }),
  /** Null when the stock could not be read in time. */
  stock: z.object({ available: z.number().int(), inStock: z.boolean() }).nullable(),
  reviews: z
    .object({
      count: z.number().int(),
      averageRating: z.number().nullable(),
      /** The three most recent. */
      latest: z.array(z.object({ author: z.string(), rating: z.number(), body: z.string(), createdAt: z.string() })),
    })
    .nullable(),
  recommendations: z.array(z.object({ id: z.string(), name: z.string(), ...Money })),
  /** The parts this answer lacks (also in the `flotilla-partial` header). */
  partial: z.array(z.string()),
});

export const MobileProduct = z.object({
  id: z.string(),
  name: z.string(),
  ...Money,
  /** Null when the stock could not be read in time. */
  inStock: z.boolean().nullable(),
  rating: z.object({ average: z.number().nullable(), count: z.number().int() }).nullable(),
  /** The three best suggestions' product ids. */
  recommended: z.array(z.string()).max(3),
  partial: z.array(z.string()),
});

/** `GET /api/v1/products/:id/page`: everything the web product page shows, in one request. */
const webProductPage = composite({
  name: "web.productPage",
  description: "A product page: the product, its stock, reviews (legacy monolith) and suggestions",
  method: "GET",
  path: "/api/v1/products/:id/page",
  timeoutMs: 2_000,
  parts: (p) => {
    const parts = productParts(p);
    return {
      ...parts,
      // The suggested products' names and prices, once their ids are known.
      recommended: p.after(
        parts.recommendations,
        catalog.getProducts,
        (r) => (r.items.length === 0 ? undefined : { ids: r.items.map((i) => i.productId) }),
        { optional: true, timeoutMs: 500 },
      ),
    };
  },
  shape: ({ product, stock, reviews, recommended }, { partial }) => {
    const available = stock === null ? undefined : stock.items[0]?.available;
    return {
      product,
      stock: stock === null ? null : { available: available ?? 0, inStock: (available ?? 0) > 0 },
      reviews:
        reviews === null
          ? null
          : { count: reviews.count, averageRating: reviews.averageRating, latest: reviews.items.slice(-3).reverse() },
      recommendations: recommended?.items ?? [],
      partial: [...partial],
    };
  },
  output: WebProductPage,
});

/** `GET /mobile/v1/products/:id`: the same product for the app, small: no description, no review texts, ids only. */
const mobileProduct = composite({
  name: "mobile.product",
  description: "A product for the mobile app: price, whether it is in stock, its rating and three suggestions",
  method: "GET",
  path: "/mobile/v1/products/:id",
  timeoutMs: 1_500,
  parts: productParts,
  shape: ({ product, stock, reviews, recommendations: suggested }, { partial }) => ({
    id: product.id,
    name: product.name,
    price: product.price,
    currency: product.currency,
    inStock: stock === null ? null : (stock.items[0]?.available ?? 0) > 0,
    rating: reviews === null ? null : { average: reviews.averageRating, count: reviews.count },
    recommended: (suggested?.items ?? []).slice(0, 3).map((i) => i.productId),
    partial: [...partial],
  }),
  output: MobileProduct,
});

/** The shop's composite routes, in the gateway's routes beside `shopRoutes`. */
export const bffRoutes = [webProductPage, mobileProduct];
