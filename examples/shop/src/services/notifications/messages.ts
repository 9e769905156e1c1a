/** @module What a notification says: the welcome and each order status a customer hears about. */
import type { EventDataOf } from "@flotilla/core";
import type { orders } from "../orders/contract.js";

export interface Message {
  /** `welcome`, `order.confirmed`, … (the contract's `kind`). */
  kind: string;
  title: string;
  body: string;
}

/** Reasons the checkout gives (inventory's, payments' and shipping's error codes), as a customer reads them. */
const reasons: Record<string, string> = {
  OUT_OF_STOCK: "an item is out of stock",
  CARD_DECLINED: "the card was declined",
  PAYMENT_CANCELLED: "the payment was cancelled",
  PROVIDER_UNAVAILABLE: "the payment provider could not be reached",
  DESTINATION_NOT_SERVED: "we cannot deliver to the shipping address",
};

export function welcome(name: string, email: string): Message {
  return {
    kind: "welcome",
    title: "Welcome to the Flotilla shop",
    body: `Hello ${name}, welcome! Your account ${email} is ready: happy shopping.`,
  };
}

/** The message for an order's new status; undefined for `pending`, which no one is told about. */
export function orderStatus(
  order: Pick<EventDataOf<typeof orders.OrderStatusChanged>, "orderId" | "status" | "failureReason">,
  name: string | undefined,
): Message | undefined {
  const hello = name === undefined ? "Hello" : `Hello ${name}`;
  const ref = `#${order.orderId.slice(0, 8)}`;
  const because = order.failureReason ? `: ${reasons[order.failureReason] ?? order.failureReason}` : "";
  switch (order.status) {
    case "pending":
      return undefined;
    case "confirmed":
      return {
        kind: "order.confirmed",
        title: `Order ${ref} confirmed`,
        body: `${hello}, your order ${ref} is confirmed. We will tell you when it ships.`,
      };
    case "rejected":
      return {
        kind: "order.rejected",
        title: `Order ${ref} not accepted`,
        body: `${hello}, we could not accept your order ${ref}${because}.`,
      };
    case "cancelled":
      return {
        kind: "order.cancelled",
        title: `Order ${ref} cancelled`,
        body: `${hello}, your order ${ref} was cancelled${because}. Any payment for it is refunded.`,
      };
    case "shipped":
      return {
        kind: "order.shipped",
        title: `Order ${ref} shipped`,
        body: `${hello}, your order ${ref} is on its way.`,
      };
  }
}
