/** @module The inventory contract: stock per product, reservations that expire, and their release. */
import { action, defineContract, event } from "@flotilla/core";
import { z } from "zod";

const ProductId = z.string().min(1).max(100);
/** Chosen by the caller (a saga step id): the same id again is the same reservation, never a second one. */
const ReservationId = z.string().min(1).max(200);
const Lines = z
  .array(z.object({ productId: ProductId, quantity: z.number().int().min(1).max(1000) }))
  .min(1)
  .max(50);

export const StockLevel = z.object({
  productId: z.string(),
  /** Units that can still be reserved: on hand minus reserved. */
  available: z.number().int(),
  /** Units held by active reservations. */
  reserved: z.number().int(),
});

export const inventory = defineContract({
  service: "inventory",
  version: "1.0.0",
  actions: {
    reserve: action({
      description:
        "Holds stock for an order until committed, released or expired; all lines or none. Idempotent by reservationId",
      input: z.object({
        reservationId: ReservationId,
        orderId: z.string().min(1).max(100),
        items: Lines,
        /** How long the hold lasts unless committed (default SHOP_RESERVATION_TTL_MS, else 15 minutes). */
        ttlMs: z.number().int().min(1_000).max(86_400_000).optional(),
      }),
      output: z.object({ reservationId: z.string(), expiresAt: z.iso.datetime() }),
      idempotent: true,
    }),
    commit: action({
      description: "Turns a reservation into a sale: its units leave the stock for good. Idempotent",
      input: z.object({ reservationId: ReservationId }),
      output: z.object({ reservationId: z.string(), status: z.literal("committed") }),
      idempotent: true,
    }),
    release: action({
      description:
        "Gives a reservation's units back. Idempotent; an unknown id is remembered as released, so a late reserve with it is refused",
      input: z.object({ reservationId: ReservationId }),
      output: z.object({ released: z.boolean() }),
      idempotent: true,
    }),
    stockLevels: action({
      description: "Admin: stock of every product (or of the ones named)",
      input: z.object({ productIds: z.array(ProductId).max(100).optional() }),
      output: z.object({ items: z.array(StockLevel) }),
      idempotent: true,
    }),
  },
  events: {
    StockReserved: event({
      schema: z.object({ reservationId: z.string(), orderId: z.string(), items: Lines, expiresAt: z.iso.datetime() }),
    }),
    StockCommitted: event({ schema: z.object({ reservationId: z.string(), orderId: z.string(), items: Lines }) }),
    StockReleased: event({
      schema: z.object({
        reservationId: z.string(),
        orderId: z.string(),
        items: Lines,
        reason: z.enum(["released", "expired"]),
      }),
    }),
  },
  errors: {
    /** Terminal: not enough units of one of the products; details name them. */
    OUT_OF_STOCK: "FAILED_PRECONDITION",
    /** Terminal: the reservation was released (or expired) before this call. */
    RESERVATION_RELEASED: "FAILED_PRECONDITION",
    RESERVATION_NOT_FOUND: "NOT_FOUND",
    PRODUCT_NOT_STOCKED: "NOT_FOUND",
  },
});
