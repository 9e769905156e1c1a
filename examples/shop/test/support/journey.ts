/**
 * A customer's whole journey through the shop's public API, as SHOP-API.md describes it: browse, sign
 * in, order, see the order confirmed and shipped by the checkout saga and notified. The same checks for
 * every way the shop runs (one process, a process per service, the shop's own units).
 */
import { waitFor } from "@flotilla/testing";
import { expect } from "vitest";
import { paid } from "./checkout.js";
import { type Json, ShopClient } from "./shop-client.js";

/** What the journey saw, for a test's own further checks. */
export interface Journey {
  readonly orderId: string;
  readonly notifications: readonly Json[];
}

/** Runs the journey against the gateway at `url`; every step asserts what the shop must answer. */
export async function customerJourney(url: string, options: { timeoutMs?: number } = {}): Promise<Journey> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const client = new ShopClient(url);
  const anonymous = {};
  // Browse: a page of the seeded catalog, then one product.
  const page = await client.send("GET", "/api/v1/products?limit=5", anonymous);
  expect(page.status).toBe(200);
  expect(page.body.items).toHaveLength(5);
  const product = page.body.items[0] as { id: string; price: number };
  const one = await client.send("GET", `/api/v1/products/${product.id}`, anonymous);
  expect(one.status).toBe(200);
  expect(one.body).toMatchObject({ id: product.id, price: product.price, currency: "EUR" });
  // Sign in, order two of it.
  const demo = await client.signIn("demo@flotilla.dev", "demo-password");
  const placed = await client.placeOrder(demo, { items: [{ productId: product.id, quantity: 2 }], ...paid });
  expect(placed.status).toBe(202);
  const orderId = placed.body.orderId as string;
  // The checkout saga confirms it (stock, payment) and shipping dispatches it.
  const shipped = await client.settled(demo, orderId, new Set(["shipped"]), timeoutMs);
  expect(shipped).toMatchObject({ id: orderId, status: "shipped", total: product.price * 2 });
  // And the customer is told.
  let notifications: Json[] = [];
  await waitFor(
    async () => {
      const list = await client.send("GET", "/api/v1/me/notifications?limit=100", demo);
      notifications = list.status === 200 ? (list.body.items as Json[]) : [];
      return notifications.some((n) => n.orderId === orderId && n.kind === "order.shipped");
    },
    { timeoutMs, intervalMs: 100, what: `a notification that order ${orderId} shipped` },
  );
  return { orderId, notifications: notifications.filter((n) => n.orderId === orderId) };
}
