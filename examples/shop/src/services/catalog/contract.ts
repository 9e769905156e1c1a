/**
 * @module The catalog's contract: products and search. Other services import this, never the implementation.
 * Version 2 adds `getProductV2` (a product with its price as money); `catalogV1` is the 1.x contract, which
 * instances still running 1.x serve.
 */
import { action, defineContract, event } from "@flotilla/core";
import { z } from "zod";

export const Product = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  /** Minor units of `currency` (cents), so sums are exact. */
  price: z.number().int().nonnegative(),
  currency: z.string().length(3),
});
export type Product = z.infer<typeof Product>;

/** A product as version 2 of the public API shows it: the price is an amount with its currency. */
export const ProductV2 = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  price: z.object({ amountCents: z.number().int().nonnegative(), currency: z.string().length(3) }),
});
export type ProductV2 = z.infer<typeof ProductV2>;

const ProductId = z.string().min(1).max(100);

const v1Actions = {
  listProducts: action({
    description: "Products, optionally filtered by a search text, in pages",
    input: z.object({
      q: z.string().trim().max(200).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: z.string().max(200).optional(),
    }),
    output: z.object({ items: z.array(Product), nextCursor: z.string().nullable() }),
    idempotent: true,
  }),
  getProduct: action({
    input: z.object({ id: ProductId }),
    output: Product,
    idempotent: true,
  }),
  getProducts: action({
    description: "Several products at once; fails with PRODUCT_NOT_FOUND naming every unknown id",
    input: z.object({ ids: z.array(ProductId).min(1).max(100) }),
    output: z.object({ items: z.array(Product) }),
    idempotent: true,
  }),
  updateProduct: action({
    description:
      "Admin: a product's price and/or stock on hand; emits ProductUpdated (inventory, caches and read models follow it)",
    input: z
      .object({
        id: ProductId,
        price: z.number().int().nonnegative().optional(),
        /** Units on hand, set absolutely (inventory keeps reserved units apart). */
        stock: z.number().int().min(0).max(1_000_000).optional(),
      })
      // An update of nothing is a client's mistake, refused at the boundary like any invalid input.
      .refine((input) => input.price !== undefined || input.stock !== undefined, {
        message: "give a price, a stock or both",
      }),
    output: Product,
  }),
  bestsellers: action({
    description: "Products by units sold (the sales read model, built from OrderPlaced events)",
    input: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
    output: z.object({
      items: z.array(z.object({ id: z.string(), name: z.string(), units: z.number(), orders: z.number() })),
    }),
    idempotent: true,
  }),
};

const events = {
  ProductCreated: event({ schema: Product }),
  /** The product as it now is; `stock` only when an admin set the units on hand. */
  ProductUpdated: event({ schema: Product.extend({ stock: z.number().int().optional() }) }),
};

const errors = {
  PRODUCT_NOT_FOUND: "NOT_FOUND",
  INVALID_CURSOR: "INVALID_ARGUMENT",
  PERMISSION_DENIED: "PERMISSION_DENIED",
} as const;

export const catalog = defineContract({
  service: "catalog",
  version: "2.0.0",
  actions: {
    ...v1Actions,
    getProductV2: action({
      description: "A product as version 2 of the API shows it: its price as { amountCents, currency }",
      input: z.object({ id: ProductId }),
      output: ProductV2,
      idempotent: true,
    }),
  },
  events,
  errors,
});

/** The catalog's 1.x contract: what an instance of 1.x serves, without the version-2 action. */
export const catalogV1 = defineContract({ service: "catalog", version: "1.4.0", actions: v1Actions, events, errors });
