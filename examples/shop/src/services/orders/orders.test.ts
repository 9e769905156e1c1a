import { createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
    const { orderId, status } = await host.call(orders.createOrder, {
      items: [
        { productId: a.id, quantity: 2 },
        { productId: b.id, quantity: 1 },
      ],
    });
    expect(status).toBe("pending");
    const order = await host.call(orders.getOrder, { id: orderId });
    expect(order).toMatchObject({ id: orderId, status: "pending", currency: "EUR", total: a.price * 2 + b.price });
    expect(order.items.map((i) => [i.productId, i.quantity, i.unitPrice])).toEqual([
      [a.id, 2, a.price],
      [b.id, 1, b.price],
    ]);
    await expect.poll(() => placed.length).toBeGreaterThan(0);
    expect(placed.at(-1)).toMatchObject({ orderId, total: order.total, customerId: null });
  });

  it("returns the same order for the same idempotency key, even under concurrency", async () => {
    const input = { items: [{ productId: a.id, quantity: 1 }], idempotencyKey: "key-1" };
    const results = await Promise.all(Array.from({ length: 5 }, () => host.call(orders.createOrder, input)));
    expect(new Set(results.map((r) => r.orderId)).size).toBe(1);
  });

  it("rejects unknown products with 404-class errors and bad input with the failing fields", async () => {
    await expect(host.call(orders.createOrder, { items: [{ productId: "nope", quantity: 1 }] })).rejects.toMatchObject({
      code: "PRODUCT_NOT_FOUND",
      status: "NOT_FOUND",
    });
    const bad = host.call(orders.createOrder, { items: [{ productId: a.id, quantity: 0 }] });
    await expect(bad).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { issues: [expect.objectContaining({ path: "items.0.quantity" })] },
    });
    await expect(host.call(orders.getOrder, { id: "missing" })).rejects.toMatchObject({ code: "ORDER_NOT_FOUND" });
  });

  it("hides a customer's order from other callers", async () => {
    const owner = { subject: "user-1", roles: ["customer"] };
    const { orderId } = await host.call(
      orders.createOrder,
      { items: [{ productId: a.id, quantity: 1 }] },
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
