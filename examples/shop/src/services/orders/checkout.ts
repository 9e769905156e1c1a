/**
 * @module The checkout saga: reserve stock → charge the card → book the shipment → take the stock for
 * good. Each failure undoes what was done, in reverse; the order's status follows the saga's end.
 */
import { defineSaga, type SagaFailure } from "@flotilla/saga";
import type { Kysely } from "kysely";
import { z } from "zod";
import { inventory } from "../inventory/contract.js";
import { payments } from "../payments/contract.js";
import { Address, shipping } from "../shipping/contract.js";
import { type Order, orders } from "./contract.js";
import type { OrdersTables } from "./schema.js";

export const CheckoutInput = z.object({
  orderId: z.string(),
  customerId: z.string(),
  items: z.array(
    z.object({ productId: z.string(), quantity: z.number().int(), name: z.string(), unitPrice: z.number().int() }),
  ),
  total: z.number().int(),
  currency: z.string(),
  card: z.string(),
  address: Address,
});
export type CheckoutInput = z.infer<typeof CheckoutInput>;

/** A checkout that has not ended after this turns back (default 30 s; SHOP_CHECKOUT_TIMEOUT_MS). */
const timeoutMs = Number(process.env.SHOP_CHECKOUT_TIMEOUT_MS ?? 30_000);
/** Stock stays reserved well past the saga's timeout, so it cannot lapse under a saga that still runs. */
const reservationTtlMs = Math.max(15 * 60_000, timeoutMs * 4);

type Db = Kysely<OrdersTables>;

/**
 * Failures before any money moved reject the order; later ones cancel it (the money went back). A
 * charge that failed without a definite answer (a timeout, a payments instance that died) is refunded
 * all the same, and whether it had taken money is what the refund found.
 */
export function endOf(failure: SagaFailure): Order["status"] {
  if (failure.step !== "reserve" && failure.step !== "charge") return "cancelled";
  const refund = failure.undone?.charge as { charged?: boolean } | undefined;
  return refund?.charged === true ? "cancelled" : "rejected";
}

export const checkoutV1 = defineSaga({ name: "checkout", version: 1, input: CheckoutInput, timeoutMs })
  .step("reserve", {
    action: inventory.reserve,
    input: ({ input }, step) => ({
      reservationId: step.id,
      orderId: input.orderId,
      items: input.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
      ttlMs: reservationTtlMs,
    }),
    compensate: { action: inventory.release, input: (_state, step) => ({ reservationId: step.id }) },
  })
  .step("charge", {
    action: payments.charge,
    input: ({ input }, step) => ({
      paymentId: step.id,
      orderId: input.orderId,
      customerId: input.customerId,
      amount: input.total,
      currency: input.currency,
      card: input.card,
    }),
    compensate: { action: payments.refund, input: (_state, step) => ({ paymentId: step.id }) },
  })
  .step("ship", {
    action: shipping.createShipment,
    input: ({ input }, step) => ({
      shipmentId: step.id,
      orderId: input.orderId,
      customerId: input.customerId,
      address: input.address,
      items: input.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
    }),
    compensate: { action: shipping.cancelShipment, input: (_state, step) => ({ shipmentId: step.id }) },
  })
  .step("commit", {
    action: inventory.commit,
    input: ({ reserve }) => ({ reservationId: reserve.reservationId }),
  })
  .hooks<Db>({
    async onCompleted({ input }, ctx) {
      await setStatus(ctx.db, input.orderId, "confirmed", null);
      await ctx.emit(orders.OrderConfirmed, {
        orderId: input.orderId,
        customerId: input.customerId,
        items: input.items,
        total: input.total,
        currency: input.currency,
      });
      await ctx.emit(orders.OrderStatusChanged, {
        orderId: input.orderId,
        customerId: input.customerId,
        status: "confirmed",
      });
    },
    async onCompensated({ input }, failure, ctx) {
      const status = endOf(failure);
      await setStatus(ctx.db, input.orderId, status, failure.code);
      await ctx.emit(orders.OrderStatusChanged, {
        orderId: input.orderId,
        customerId: input.customerId,
        status,
        failureReason: failure.code,
      });
      ctx.log.info({ orderId: input.orderId, status, failure }, "checkout turned back");
    },
    async onFailed(failure, ctx) {
      // The order stays pending: an operator finds the saga listed as failed, with its journal.
      ctx.log.error({ failure }, "checkout could not be compensated; it needs an operator");
    },
  })
  .build();

export async function setStatus(
  db: Db,
  orderId: string,
  status: Order["status"],
  reason: string | null,
): Promise<void> {
  await db
    .updateTable("orders")
    .set({ status, failure_reason: reason, updated_at: new Date().toISOString() })
    .where("id", "=", orderId)
    .execute();
}
