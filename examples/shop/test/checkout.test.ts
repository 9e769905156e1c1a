/**
 * Checkout end to end over HTTP, the shop embedded in this process: every business outcome of
 * SHOP-API.md, then 1,000 concurrent checkouts whose books must balance exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionCounter, type CountedShop, startCountedShop } from "./support/attack.js";
import { checkoutLoad } from "./support/reconcile.js";
import { ADDRESS, CARDS, type Headers, NOWHERE, ShopClient } from "./support/shop-client.js";

const LOAD_ORDERS = Number(process.env.CHECKOUT_LOAD_ORDERS ?? 1000);

describe("checkout, embedded", () => {
  let shop: CountedShop;
  let client: ShopClient;
  let demo: Headers;
  let admin: Headers;
  beforeAll(async () => {
    shop = await startCountedShop(actionCounter(), {
      env: { FLOTILLA_RATE_LIMIT: "1000000/1", SHOP_DISPATCH_DELAY_MS: "200", SHOP_DISPATCH_SWEEP_MS: "100" },
    });
    client = new ShopClient(shop.url);
    demo = await client.signIn("demo@flotilla.dev", "demo-password");
    admin = await client.signIn("admin@flotilla.dev", "admin-password");
  }, 60_000);
  afterAll(() => shop?.stop());

  const order = (productId: string, card: string, shipping = ADDRESS, quantity = 1) => ({
    items: [{ productId, quantity }],
    payment: { card },
    shipping,
  });

  it("answers 202 at once, then confirms, then ships", async () => {
    const placed = await client.placeOrder(demo, order("prod-french-press", CARDS.ok));
    expect(placed.status).toBe(202);
    expect(placed.body).toMatchObject({ status: "pending" });
    const confirmed = await client.settled(demo, placed.body.orderId);
    expect(["confirmed", "shipped"]).toContain(confirmed.status);
    const shipped = await client.settled(demo, placed.body.orderId, new Set(["shipped"]));
    expect(shipped.failureReason).toBeUndefined();
  });

  it("a declined card rejects the order and gives the stock back", async () => {
    const before = (await client.stock(admin)).get("prod-tamper");
    const placed = await client.placeOrder(demo, order("prod-tamper", CARDS.declined, ADDRESS, 2));
    const done = await client.settled(demo, placed.body.orderId);
    expect(done).toMatchObject({ status: "rejected", failureReason: "CARD_DECLINED" });
    expect((await client.stock(admin)).get("prod-tamper")).toEqual(before);
  });

  it("an address that cannot be served cancels the order: refunded, stock back", async () => {
    const stockBefore = (await client.stock(admin)).get("prod-moka-pot");
    const paymentsBefore = await client.payments(admin);
    const placed = await client.placeOrder(demo, order("prod-moka-pot", CARDS.ok, NOWHERE));
    const done = await client.settled(demo, placed.body.orderId);
    expect(done).toMatchObject({ status: "cancelled", failureReason: "DESTINATION_NOT_SERVED" });
    expect((await client.stock(admin)).get("prod-moka-pot")).toEqual(stockBefore);
    const paymentsAfter = await client.payments(admin);
    expect(paymentsAfter.charged - paymentsBefore.charged).toBe(done.total);
    expect(paymentsAfter.refunded - paymentsBefore.refunded).toBe(done.total);
    expect(paymentsAfter.net).toBe(paymentsBefore.net);
  });

  it("stock that runs out rejects the order with OUT_OF_STOCK and charges nothing", async () => {
    await client.setStock(admin, "prod-knock-box", 1);
    const paymentsBefore = await client.payments(admin);
    const placed = await client.placeOrder(demo, order("prod-knock-box", CARDS.ok, ADDRESS, 2));
    expect(await client.settled(demo, placed.body.orderId)).toMatchObject({
      status: "rejected",
      failureReason: "OUT_OF_STOCK",
    });
    expect(await client.payments(admin)).toEqual(paymentsBefore);
    expect((await client.stock(admin)).get("prod-knock-box")).toEqual({ available: 1, reserved: 0 });
  });

  it("a provider that fails once is retried: the order is confirmed, charged once", async () => {
    const paymentsBefore = await client.payments(admin);
    const placed = await client.placeOrder(demo, order("prod-chai-blend", CARDS.flaky));
    const done = await client.settled(demo, placed.body.orderId);
    expect(["confirmed", "shipped"]).toContain(done.status);
    expect((await client.payments(admin)).charged - paymentsBefore.charged).toBe(done.total);
    const saga = await client.send("GET", `/api/v1/admin/sagas/${placed.body.orderId}`, admin);
    const entries = (saga.body.history as { entry: string; step: string }[]).map((h) => `${h.entry}:${h.step}`);
    expect(entries).toContain("retry-scheduled:charge");
  });

  it("the same Idempotency-Key places one order, and one saga", async () => {
    const body = order("prod-honey-jar", CARDS.ok);
    const key = { "idempotency-key": "checkout-once" };
    const [a, b] = await Promise.all([client.placeOrder(demo, body, key), client.placeOrder(demo, body, key)]);
    expect(a.body.orderId).toBe(b.body.orderId);
    await client.settled(demo, a.body.orderId);
    const sagas = await client.send("GET", "/api/v1/admin/sagas?limit=500", admin);
    expect(sagas.body.items.filter((s: { id: string }) => s.id === a.body.orderId)).toHaveLength(1);
  });

  it("lists sagas for admins only, by status", async () => {
    expect((await client.send("GET", "/api/v1/admin/sagas", demo)).status).toBe(403);
    const done = await client.send("GET", "/api/v1/admin/sagas?status=completed", admin);
    expect(done.status).toBe(200);
    expect(done.body.items.length).toBeGreaterThan(0);
    for (const s of done.body.items) {
      expect(s).toMatchObject({ type: "checkout", status: "completed", step: "commit" });
      expect(Date.parse(s.updatedAt)).toBeGreaterThanOrEqual(Date.parse(s.startedAt));
    }
    const saga = await client.send("GET", `/api/v1/admin/sagas/${done.body.items[0].id}`, admin);
    // The card number is in the saga's input; it never leaves the service.
    expect(JSON.stringify(saga.body)).not.toContain(CARDS.ok);
  });

  it(`${LOAD_ORDERS} concurrent checkouts end, and the books balance exactly`, async () => {
    const books = await checkoutLoad(client, demo, admin, {
      orders: LOAD_ORDERS,
      concurrency: 100,
      scarce: [
        { productId: "prod-espresso-machine", stock: 40 },
        { productId: "prod-burr-grinder", stock: 25 },
      ],
      plentiful: ["prod-ceramic-mug", "prod-paper-filters", "prod-descaler"],
      settleTimeoutMs: 120_000,
    });
    console.log(`checkout load (embedded): ${JSON.stringify(books)}`);
    expect(books.placed).toBe(LOAD_ORDERS);
    expect(books.byStatus.pending ?? 0).toBe(0);
    expect(books.byReason.OUT_OF_STOCK ?? 0).toBeGreaterThan(0);
    expect(books.byReason.CARD_DECLINED ?? 0).toBeGreaterThan(0);
    expect(books.byReason.DESTINATION_NOT_SERVED ?? 0).toBeGreaterThan(0);
    expect(books.stock.mismatched).toEqual([]);
    expect(books.stock.reservedLeft).toBe(0);
    expect(books.payments.net).toBe(books.payments.confirmedTotal);
    // Every charge is an order confirmed or cancelled after its charge; none twice.
    expect(books.payments.charged).toBe(books.payments.confirmedTotal + books.payments.cancelledTotal);
    expect(books.payments.refunded).toBe(books.payments.cancelledTotal);
  }, 300_000);
});
