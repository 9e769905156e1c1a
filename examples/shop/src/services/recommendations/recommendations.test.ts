import { createHost, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventSource } from "../../../test/support/event-source.js";
import { orders } from "../orders/contract.js";
import { recommendations } from "./contract.js";
import { recommendationsService } from "./service.js";

const ordersSource = eventSource("orders");
const caller = (userId: string) => ({ caller: { subject: userId, roles: ["customer"] } });

describe("recommendations service", () => {
  let host: Host;
  let n = 0;
  beforeAll(async () => {
    host = createHost({
      services: [ordersSource.service, recommendationsService],
      resources: [sqliteDatabases({ dataDir: ":memory:" })],
      transport: "memory://?faithful=1",
      validateOutput: true,
    });
    await host.start();
  });
  afterAll(() => host.stop());

  /** Confirms an order of these products (one unit each unless `product*units`), as orders would announce it. */
  async function confirm(customerId: string, products: string[], orderId = `order-${++n}`): Promise<void> {
    const items = products.map((p) => {
      const [productId, units] = p.split("*") as [string, string | undefined];
      return { productId, quantity: Number(units ?? 1), name: productId, unitPrice: 100 };
    });
    const total = items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0);
    await ordersSource.emit(host, orders.OrderConfirmed, { orderId, customerId, items, total, currency: "EUR" });
  }

  const forMe = (userId: string, limit = 10) => host.call(recommendations.forMe, { limit }, caller(userId));

  it("answers the most bought products while there is no history at all", async () => {
    expect(await forMe("newcomer")).toEqual({ items: [], basis: "popular" });
  });

  it("scores what customers who bought the caller's products also bought, leaving out the caller's own", async () => {
    await confirm("alice", ["espresso", "grinder"]);
    await confirm("bob", ["espresso", "tamper"]);
    await confirm("bob", ["grinder"]); // with bob's earlier espresso and tamper: one customer, several orders
    await confirm("bob", ["grinder"]); // bought again: adds no pair
    await confirm("carol", ["espresso", "grinder", "mug*3"]);
    await confirm("erin", ["grinder", "tamper"]);
    await confirm("dave", ["tea"]);
    // Customers holding both: espresso+grinder 3, espresso+tamper 1, grinder+tamper 2, espresso+mug 1, grinder+mug 1.
    await expect
      .poll(() => forMe("alice"))
      .toEqual({
        items: [
          { productId: "tamper", score: 3 },
          { productId: "mug", score: 2 },
        ],
        basis: "history",
      });
    expect(await forMe("erin")).toEqual({
      items: [
        { productId: "espresso", score: 4 },
        { productId: "mug", score: 1 },
      ],
      basis: "history",
    });
    expect(await forMe("alice", 1)).toEqual({ items: [{ productId: "tamper", score: 3 }], basis: "history" });
  });

  it("answers, for anyone, what customers who bought a product also bought, best first", async () => {
    // The orders above: espresso was bought with grinder by 3 customers, with tamper and with mug by 1 each.
    await expect
      .poll(() => host.call(recommendations.alsoBought, { productId: "espresso", limit: 2 }))
      .toEqual({
        items: [
          { productId: "grinder", score: 3 },
          { productId: "mug", score: 1 },
        ],
      });
    expect(await host.call(recommendations.alsoBought, { productId: "nobody-bought-this", limit: 5 })).toEqual({
      items: [],
    });
    await expect(host.call(recommendations.alsoBought, { productId: "", limit: 5 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("falls back to the most bought products, by units, ties by id, less the caller's own", async () => {
    // Units: grinder 5, espresso 3, mug 3, tamper 2, tea 1.
    await expect
      .poll(() => forMe("newcomer"))
      .toEqual({
        items: [
          { productId: "grinder", score: 5 },
          { productId: "espresso", score: 3 },
          { productId: "mug", score: 3 },
          { productId: "tamper", score: 2 },
          { productId: "tea", score: 1 },
        ],
        basis: "popular",
      });
    // Dave's tea was bought by no one else: nothing to go on from his history.
    expect(await forMe("dave", 2)).toEqual({
      items: [
        { productId: "grinder", score: 5 },
        { productId: "espresso", score: 3 },
      ],
      basis: "popular",
    });
  });

  it("counts an order once however often it is confirmed", async () => {
    await confirm("frank", ["tea*10", "kettle"], "order-repeated");
    await confirm("frank", ["tea*10", "kettle"], "order-repeated");
    await confirm("gina", ["kettle"]);
    await expect.poll(() => forMe("gina")).toEqual({ items: [{ productId: "tea", score: 1 }], basis: "history" });
    const popular = await forMe("newcomer", 1);
    expect(popular.items).toEqual([{ productId: "tea", score: 11 }]);
  });

  it("needs a signed-in caller and a sensible limit", async () => {
    await expect(host.call(recommendations.forMe, { limit: 5 })).rejects.toMatchObject({
      code: "SIGN_IN_REQUIRED",
      status: "UNAUTHENTICATED",
    });
    await expect(host.call(recommendations.forMe, { limit: 51 }, caller("alice"))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });
});
