/** @module The orders contract: placing and reading orders, and the OrderPlaced event. */
import { action, defineContract, event, sensitive } from "@flotilla/core";
import { z } from "zod";

export const OrderStatus = z.enum(["pending", "confirmed", "rejected", "cancelled", "shipped"]);

const OrderLine = z.object({
  productId: z.string().min(1).max(100),
  quantity: z.number().int().min(1).max(100),
});

const PricedLine = OrderLine.extend({ name: z.string(), unitPrice: z.number().int() });

export const Order = z.object({
  id: z.string(),
  status: OrderStatus,
  items: z.array(PricedLine),
  /** Minor units of `currency`. */
  total: z.number().int(),
  currency: z.string(),
  failureReason: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Order = z.infer<typeof Order>;

const SagaStatus = z.enum(["running", "compensating", "completed", "compensated", "failed"]);

const SagaSummary = z.object({
  id: z.string(),
  type: z.string(),
  version: z.number().int(),
  status: SagaStatus,
  step: z.string(),
  attempt: z.number().int(),
  startedAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number(),
  failure: z.object({ step: z.string(), code: z.string(), message: z.string() }).nullable(),
});

export const orders = defineContract({
  service: "orders",
  version: "1.0.0",
  actions: {
    createOrder: action({
      input: z.object({
        items: z.array(OrderLine).min(1).max(50),
        payment: z.object({ card: sensitive(z.string().regex(/^\d{12,19}$/)) }).optional(),
        shipping: z
          .object({
            name: z.string().min(1).max(200),
            street: sensitive(z.string().min(1).max(200)),
            city: z.string().min(1).max(100),
            country: z.string().length(2),
          })
          .optional(),
      }),
      output: z.object({ orderId: z.string(), status: OrderStatus }),
      // The same key again (per customer, for a day) answers with the first order instead of placing a second.
      idempotencyKey: true,
    }),
    getOrder: action({ input: z.object({ id: z.string().min(1).max(100) }), output: Order, idempotent: true }),
    listOrders: action({
      description: "The caller's orders, newest first, in pages",
      input: z.object({
        limit: z.coerce.number().int().min(1).max(100).default(20),
        cursor: z.string().max(200).optional(),
      }),
      output: z.object({ items: z.array(Order), nextCursor: z.string().nullable() }),
      idempotent: true,
    }),
    listSagas: action({
      description: "Admin: checkout sagas, most recently updated first, optionally by status",
      input: z.object({
        status: SagaStatus.optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
      output: z.object({ items: z.array(SagaSummary) }),
      idempotent: true,
    }),
    getSaga: action({
      description: "Admin: one saga with its input, step outputs and journal",
      input: z.object({ id: z.string().min(1).max(100) }),
      output: SagaSummary.extend({
        history: z.array(
          z.object({
            at: z.string(),
            entry: z.string(),
            step: z.string().nullable(),
            attempt: z.number().nullable(),
            detail: z.unknown(),
          }),
        ),
      }),
      idempotent: true,
    }),
  },
  events: {
    /** Every change of an order's status; `customerId` names who may see it (live push routes by it). */
    OrderStatusChanged: event({
      schema: z.object({
        orderId: z.string(),
        customerId: z.string(),
        status: OrderStatus,
        failureReason: z.string().optional(),
      }),
      // The order's customer is who may see it change: the mark live push routes by.
      audience: (change) => change.customerId,
    }),
    /** An order paid for, its stock taken and its shipment booked (read models build on it). */
    OrderConfirmed: event({
      schema: z.object({
        orderId: z.string(),
        customerId: z.string(),
        items: z.array(PricedLine),
        total: z.number().int(),
        currency: z.string(),
      }),
    }),
    OrderPlaced: event({
      schema: z.object({
        orderId: z.string(),
        customerId: z.string().nullable(),
        items: z.array(PricedLine),
        total: z.number().int(),
        currency: z.string(),
      }),
      // Its buyer sees the order appear (status pending) live; an order without one concerns no one.
      audience: (placed) => placed.customerId ?? undefined,
    }),
  },
  errors: {
    ORDER_NOT_FOUND: "NOT_FOUND",
    SIGN_IN_REQUIRED: "UNAUTHENTICATED",
    INVALID_CURSOR: "INVALID_ARGUMENT",
    MIXED_CURRENCIES: "INVALID_ARGUMENT",
    PAYMENT_REQUIRED: "INVALID_ARGUMENT",
    ADDRESS_REQUIRED: "INVALID_ARGUMENT",
    PERMISSION_DENIED: "PERMISSION_DENIED",
    SAGA_NOT_FOUND: "NOT_FOUND",
  },
});
