import { createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paid } from "../../../test/support/checkout.js";
import { demoProducts } from "../catalog/seed.js";
import { catalogService } from "../catalog/service.js";
import { orders } from "./contract.js";
import { ordersService } from "./service.js";

const placed: unknown[] = [];
const observer = defineService(defineContract({ service: "observer" }), {
  actions: {},
  subscriptions: {
    placed: {
      event: orders.OrderPlaced,
      handle: async (data) => {
        placed.push(data);
      },
    },
  },
});

const customer = { subject: "user-1", roles: ["customer"] };

describe("orders service", () => {
  let host: Host;
  const [a, b] = demoProducts as [(typeof demoProducts)[0], (typeof demoProducts)[0]];
  beforeAll(async () => {
    host = createHost({
      services: [catalogService, ordersService, observer],
      resources: [sqliteDatabases({ dataDir: ":memory:" })],
      transport: "memory://?faithful=1",
      validateOutput: true,
    });
    await host.start();
  });
  afterAll(() => host.stop());

  it("prices an order from the catalog, stores it and emits OrderPlaced", async () => {
    const { orderId, status } = await host.call(
      orders.createOrder,
      {
        items: [
          { productId: a.id, quantity: 2 },
          { productId: b.id, quantity: 1 },
        ],
        ...paid,
      },
      { caller: customer },
    );
    expect(status).toBe("pending");
    const order = await host.call(orders.getOrder, { id: orderId }, { caller: customer });
    expect(order).toMatchObject({ id: orderId, status: "pending", currency: "EUR", total: a.price * 2 + b.price });
    expect(order.items.map((i) => [i.productId, i.quantity, i.unitPrice])).toEqual([
      [a.id, 2, a.price],
      [b.id, 1, b.price],
    ]);
    await expect.poll(() => placed.length).toBeGreaterThan(0);
    expect(placed.at(-1)).toMatchObject({ orderId, total: order.total, customerId: "user-1" });
  });

  it("returns the same order for the same idempotency key, even under concurrency", async () => {
    const input = { items: [{ productId: a.id, quantity: 1 }], ...paid };
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        host.call(orders.createOrder, input, { caller: customer, idempotencyKey: "key-1" }),
      ),
    );
    expect(new Set(results.map((r) => r.orderId)).size).toBe(1);
    // The key is the customer's own: another customer's same key places another order.
    const other = await host.call(orders.createOrder, input, {
      caller: { subject: "user-9", roles: ["customer"] },
      idempotencyKey: "key-1",
    });
    expect(other.orderId).not.toBe(results[0]?.orderId);
    // The same key with another order is refused, not answered with the first.
    const changed = { ...input, items: [{ productId: a.id, quantity: 2 }] };
    await expect(
      host.call(orders.createOrder, changed, { caller: customer, idempotencyKey: "key-1" }),
    ).rejects.toMatchObject({ code: "FLOTILLA_IDEMPOTENCY_KEY_REUSED" });
  });

  it("rejects unknown products with 404-class errors and bad input with the failing fields", async () => {
    const unknown = host.call(
      orders.createOrder,
      { items: [{ productId: "nope", quantity: 1 }], ...paid },
      { caller: customer },
    );
    await expect(unknown).rejects.toMatchObject({ code: "PRODUCT_NOT_FOUND", status: "NOT_FOUND" });
    const bad = host.call(
      orders.createOrder,
      { items: [{ productId: a.id, quantity: 0 }], ...paid },
      { caller: customer },
    );
    await expect(bad).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { issues: [expect.objectContaining({ path: "items.0.quantity" })] },
    });
    const missing = host.call(orders.getOrder, { id: "missing" }, { caller: customer });
    await expect(missing).rejects.toMatchObject({ code: "ORDER_NOT_FOUND" });
  });

  it("takes orders only from a signed-in caller", async () => {
    const anonymous = host.call(orders.createOrder, { items: [{ productId: a.id, quantity: 1 }], ...paid });
    await expect(anonymous).rejects.toMatchObject({ code: "SIGN_IN_REQUIRED", status: "UNAUTHENTICATED" });
    await expect(host.call(orders.listOrders, {})).rejects.toMatchObject({ code: "SIGN_IN_REQUIRED" });
  });

  it("lists the caller's own orders, newest first, in pages", async () => {
    const buyer = { subject: `buyer-${Date.now()}`, roles: ["customer"] };
    const placedIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { orderId } = await host.call(
        orders.createOrder,
        { items: [{ productId: a.id, quantity: i + 1 }], ...paid },
        { caller: buyer },
      );
      placedIds.push(orderId);
    }
    const seen: string[] = [];
    const times: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await host.call(orders.listOrders, { limit: 2, ...(cursor ? { cursor } : {}) }, { caller: buyer });
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const order of page.items) expect(order.items[0]?.productId).toBe(a.id);
      seen.push(...page.items.map((o) => o.id));
      times.push(...page.items.map((o) => o.createdAt));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    // Each order once; newest first (orders placed within one millisecond tie, and any order of them is right).
    expect([...seen].sort()).toEqual([...placedIds].sort());
    expect(times).toEqual([...times].sort().reverse());
    const strangers = await host.call(orders.listOrders, {}, { caller: { subject: "nobody", roles: ["customer"] } });
    expect(strangers.items).toEqual([]);
    const bad = host.call(orders.listOrders, { cursor: "not-a-cursor" }, { caller: buyer });
    await expect(bad).rejects.toMatchObject({ code: "INVALID_CURSOR" });
  });

  it("hides a customer's order from other callers", async () => {
    const owner = { subject: "user-1", roles: ["customer"] };
    const { orderId } = await host.call(
      orders.createOrder,
      { items: [{ productId: a.id, quantity: 1 }], ...paid },
      { caller: owner },
    );
    await expect(host.call(orders.getOrder, { id: orderId }, { caller: owner })).resolves.toMatchObject({
      id: orderId,
    });
    const admin = { subject: "root", roles: ["admin"] };
    await expect(host.call(orders.getOrder, { id: orderId }, { caller: admin })).resolves.toMatchObject({
      id: orderId,
    });
    const stranger = { subject: "user-2", roles: ["customer"] };
    await expect(host.call(orders.getOrder, { id: orderId }, { caller: stranger })).rejects.toMatchObject({
      code: "ORDER_NOT_FOUND",
    });
    await expect(host.call(orders.getOrder, { id: orderId })).rejects.toMatchObject({ code: "ORDER_NOT_FOUND" });
  });
});
