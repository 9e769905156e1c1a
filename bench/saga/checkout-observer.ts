/**
 * @module How the checkout benchmark learns that an order ended: a service subscribed to the shop's
 * `orders.OrderStatusChanged`, which the checkout saga's end hook emits in the transaction that ends
 * it. The handler stamps the instant it runs (CLOCK_MONOTONIC) for a terminal status.
 */
import { defineContract, defineService, type ServiceDefinition } from "@flotilla/core";
import { orders } from "../../examples/shop/src/services/orders/contract.js";

const TERMINAL = new Set(["confirmed", "rejected", "cancelled"]);

export function observerService(onTerminal: (orderId: string, status: string, ns: number) => void): ServiceDefinition {
  return defineService(defineContract({ service: "benchobserver" }), {
    actions: {},
    subscriptions: {
      statusChanged: {
        event: orders.OrderStatusChanged,
        async handle({ orderId, status }) {
          if (TERMINAL.has(status)) onTerminal(orderId, status, Number(process.hrtime.bigint()));
        },
      },
    },
  });
}

/** Orders waited for by id; a terminal notice that comes before its 202 (it can) is kept until asked for. */
export class Terminals {
  private readonly waiting = new Map<string, (at: { status: string; ns: number }) => void>();
  private readonly early = new Map<string, { status: string; ns: number }>();

  readonly notice = (orderId: string, status: string, ns: number): void => {
    const resolve = this.waiting.get(orderId);
    if (resolve === undefined) this.early.set(orderId, { status, ns });
    else {
      this.waiting.delete(orderId);
      resolve({ status, ns });
    }
  };

  of(orderId: string): Promise<{ status: string; ns: number }> {
    const known = this.early.get(orderId);
    if (known !== undefined) {
      this.early.delete(orderId);
      return Promise.resolve(known);
    }
    return new Promise((resolve) => this.waiting.set(orderId, resolve));
  }
}
