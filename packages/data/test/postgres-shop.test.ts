import { createHost, type Host } from "@flotilla/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../../examples/shop/src/services/catalog/contract.js";
import { demoProducts } from "../../../examples/shop/src/services/catalog/seed.js";
import { catalogService } from "../../../examples/shop/src/services/catalog/service.js";
import { orders } from "../../../examples/shop/src/services/orders/contract.js";
import { ordersService } from "../../../examples/shop/src/services/orders/service.js";
import { paid } from "../../../examples/shop/test/support/checkout.js";
import { databaseProvider } from "../src/index.js";
import { usePostgres } from "./support/postgres.js";

const db = usePostgres();

/** In-process calls hand the caller over as it is; over a wire it would need the edge's proof. */
const customer = { subject: "user-1", roles: ["customer"] };
describe("the shop's catalog and orders, unchanged, on PostgreSQL (a schema per service)", () => {
  let host: Host;
  const [a, b] = demoProducts as [(typeof demoProducts)[0], (typeof demoProducts)[0]];
  beforeAll(async () => {
    host = createHost({
      services: [catalogService, ordersService],
      resources: [databaseProvider(`${db.server.url}?isolation=schema`)],
      transport: "memory://?faithful=1",
      validateOutput: true,
    });
    await host.start();
  });
  afterAll(() => host?.stop());

  it("seeds the catalog and lists and searches it", async () => {
    const page = await host.call(catalog.listProducts, { limit: 100 });
    expect(page.items).toHaveLength(demoProducts.length);
    expect(page.items.map((p) => p.id)).toEqual(demoProducts.map((p) => p.id).sort());
    const coffee = await host.call(catalog.listProducts, { q: "COFFEE", limit: 100 });
    expect(coffee.items.length).toBeGreaterThan(3);
    expect((await host.call(catalog.listProducts, { q: "%" })).items).toEqual([]);
    expect(await db.query("select count(*)::int as n from catalog.products")).toEqual([{ n: demoProducts.length }]);
  });

  it("creates an order and reads it back", async () => {
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
    expect(await db.query("select count(*)::int as n from orders.order_items where order_id = $1", [orderId])).toEqual([
      { n: 2 },
    ]);
  });

  it("answers concurrent requests with one idempotency key with one order (the key's row races)", async () => {
    const input = { items: [{ productId: a.id, quantity: 1 }], ...paid };
    const count = async () => db.query("select count(*)::int as n from orders.orders");
    const [before] = (await count()) as Array<{ n: number }>;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        host.call(orders.createOrder, input, { caller: customer, idempotencyKey: "pg-key-1" }),
      ),
    );
    expect(new Set(results.map((r) => r.orderId)).size).toBe(1);
    expect(await count()).toEqual([{ n: (before?.n ?? 0) + 1 }]);
  });

  it("keeps the two services' tables apart", async () => {
    expect(
      await db.query(
        "select schemaname, tablename from pg_tables where tableowner like 'flotilla_%' and tablename not like 'flotilla_%' order by 1, 2",
      ),
    ).toEqual([
      { schemaname: "catalog", tablename: "kysely_migration" },
      { schemaname: "catalog", tablename: "kysely_migration_lock" },
      { schemaname: "catalog", tablename: "product_sales" },
      { schemaname: "catalog", tablename: "products" },
      { schemaname: "orders", tablename: "buyers" },
      { schemaname: "orders", tablename: "kysely_migration" },
      { schemaname: "orders", tablename: "kysely_migration_lock" },
      { schemaname: "orders", tablename: "order_items" },
      { schemaname: "orders", tablename: "orders" },
    ]);
  });
});

describe("the shop's catalog and orders, unchanged, on PostgreSQL (a database per service)", () => {
  it("runs the create-order / get-order / list-products round trip", async () => {
    const host = createHost({
      services: [catalogService, ordersService],
      resources: [databaseProvider(db.server.url.replace(/\/postgres$/, "/shop_{service}"))],
      transport: "memory://?faithful=1",
      validateOutput: true,
    });
    await host.start();
    try {
      const [product] = (await host.call(catalog.listProducts, { q: "grinder" })).items;
      const input = { items: [{ productId: product!.id, quantity: 3 }], ...paid };
      const { orderId } = await host.call(orders.createOrder, input, { caller: customer });
      const order = await host.call(orders.getOrder, { id: orderId }, { caller: customer });
      expect(order).toMatchObject({ total: product!.price * 3 });
      expect(await db.query("select datname from pg_database where datname like 'shop\\_%' order by 1")).toEqual([
        { datname: "shop_catalog" },
        { datname: "shop_orders" },
      ]);
    } finally {
      await host.stop();
    }
  });
});
