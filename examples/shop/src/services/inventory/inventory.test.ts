import { action, createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { openServiceDatabase, recordingEmit } from "../../../test/support/service-database.js";
import { catalog, Product } from "../catalog/contract.js";
import { demoProducts } from "../catalog/seed.js";
import { inventory } from "./contract.js";
import { sweepExpiredReservations } from "./expiry.js";
import { reserve } from "./reservations.js";
import type { InventoryTables } from "./schema.js";
import { DEFAULT_INITIAL_STOCK, demoStock, seedStock } from "./seed.js";
import { createInventoryService, inventoryService } from "./service.js";

type Seen = { type: string; data: { reservationId: string; reason?: string; items: unknown[] } };
const seen: Seen[] = [];
const observer = defineService(defineContract({ service: "stock-observer" }), {
  actions: {},
  subscriptions: Object.fromEntries(
    [inventory.StockReserved, inventory.StockCommitted, inventory.StockReleased].map((ref) => [
      ref.type,
      {
        event: ref,
        handle: async (data: Seen["data"]) => {
          seen.push({ type: ref.type, data });
        },
      },
    ]),
  ),
});
const eventsOf = (reservationId: string) =>
  seen.filter((e) => e.data.reservationId === reservationId).map((e) => e.data.reason ?? e.type);

/** Stands in for the catalog, which only emits here: its real implementation is not inventory's to start. */
const catalogStandIn = defineContract({
  service: "catalog",
  actions: {
    announce: action({
      input: z.object({ product: Product, created: z.boolean(), stock: z.number().int().optional() }),
      output: z.object({}),
    }),
  },
});
const catalogDouble = defineService(catalogStandIn, {
  actions: {
    async announce({ product, created, stock }, ctx) {
      if (created) await ctx.emit(catalog.ProductCreated, product);
      else await ctx.emit(catalog.ProductUpdated, { ...product, ...(stock === undefined ? {} : { stock }) });
      return {};
    },
  },
});
const product = (id: string) => ({ id, name: id, description: "", price: 100, currency: "EUR" });

function startHost(services = [inventoryService]): Promise<Host> {
  const host = createHost({
    services: [...services, observer, catalogDouble],
    resources: [sqliteDatabases({ dataDir: ":memory:" })],
    transport: "memory://?faithful=1",
    validateOutput: true,
  });
  return host.start().then(() => host);
}

describe("inventory service", () => {
  let host: Host;
  beforeAll(async () => {
    host = await startHost();
  });
  afterAll(() => host.stop());

  const level = async (productId: string) => {
    const { items } = await host.call(inventory.stockLevels, { productIds: [productId] });
    return items[0];
  };
  /** A product of its own per test, with `units` on hand, so tests do not share counts. */
  async function stocked(id: string, units: number): Promise<string> {
    await host.call(catalogStandIn.announce, { product: product(id), created: false, stock: units });
    await expect.poll(() => level(id)).toEqual({ productId: id, available: units, reserved: 0 });
    return id;
  }
  const reserveOne = (reservationId: string, productId: string, quantity = 1, ttlMs?: number) =>
    host.call(inventory.reserve, {
      reservationId,
      orderId: `order-of-${reservationId}`,
      items: [{ productId, quantity }],
      ...(ttlMs === undefined ? {} : { ttlMs }),
    });

  it("keeps its copy of the demo product ids in step with the catalog's", () => {
    expect([...demoStock].sort()).toEqual(demoProducts.map((p) => p.id).sort());
  });

  it("seeds every demo product with the default stock, and reports levels sorted by product", async () => {
    const { items } = await host.call(inventory.stockLevels, {});
    const demo = items.filter((i) => demoStock.includes(i.productId));
    expect(demo.map((i) => i.productId)).toEqual([...demoStock].sort());
    for (const i of demo) expect(i).toMatchObject({ available: DEFAULT_INITIAL_STOCK, reserved: 0 });
    expect(items.map((i) => i.productId)).toEqual(items.map((i) => i.productId).sort());
    const some = await host.call(inventory.stockLevels, { productIds: ["prod-tamper", "prod-biscotti", "nope"] });
    expect(some.items.map((i) => i.productId)).toEqual(["prod-biscotti", "prod-tamper"]);
    expect((await host.call(inventory.stockLevels, { productIds: [] })).items).toEqual([]);
  });

  it("reserves, commits once, and answers repeats of either as the first call did", async () => {
    const p = await stocked("prod-t-commit", 10);
    const first = await reserveOne("r-commit", p, 3);
    expect(new Date(first.expiresAt).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000); // the 15-minute default
    expect(await level(p)).toMatchObject({ available: 7, reserved: 3 });
    expect(await reserveOne("r-commit", p, 3)).toEqual(first);
    expect(await level(p)).toMatchObject({ available: 7, reserved: 3 });

    expect(await host.call(inventory.commit, { reservationId: "r-commit" })).toEqual({
      reservationId: "r-commit",
      status: "committed",
    });
    expect(await host.call(inventory.commit, { reservationId: "r-commit" })).toMatchObject({ status: "committed" });
    expect(await level(p)).toEqual({ productId: p, available: 7, reserved: 0 });
    // Reserving a committed id again answers the same and holds nothing more; releasing it gives nothing back.
    expect(await reserveOne("r-commit", p, 3)).toEqual(first);
    expect(await host.call(inventory.release, { reservationId: "r-commit" })).toEqual({ released: false });
    expect(await level(p)).toEqual({ productId: p, available: 7, reserved: 0 });
    await expect.poll(() => eventsOf("r-commit")).toEqual(["inventory.StockReserved", "inventory.StockCommitted"]);
  });

  it("releases once; a released reservation refuses reserve and commit", async () => {
    const p = await stocked("prod-t-release", 5);
    await reserveOne("r-release", p, 2);
    expect(await host.call(inventory.release, { reservationId: "r-release" })).toEqual({ released: true });
    expect(await host.call(inventory.release, { reservationId: "r-release" })).toEqual({ released: false });
    expect(await level(p)).toEqual({ productId: p, available: 5, reserved: 0 });
    for (const call of [reserveOne("r-release", p, 2), host.call(inventory.commit, { reservationId: "r-release" })]) {
      await expect(call).rejects.toMatchObject({ code: "RESERVATION_RELEASED", status: "FAILED_PRECONDITION" });
    }
    await expect.poll(() => eventsOf("r-release")).toEqual(["inventory.StockReserved", "released"]);
  });

  it("remembers a release that came before its reserve, and refuses the late reserve", async () => {
    const p = await stocked("prod-t-tombstone", 5);
    expect(await host.call(inventory.release, { reservationId: "r-early" })).toEqual({ released: false });
    await expect(reserveOne("r-early", p, 1)).rejects.toMatchObject({ code: "RESERVATION_RELEASED" });
    await expect(host.call(inventory.commit, { reservationId: "r-early" })).rejects.toMatchObject({
      code: "RESERVATION_RELEASED",
    });
    expect(await level(p)).toEqual({ productId: p, available: 5, reserved: 0 });
    await expect(host.call(inventory.commit, { reservationId: "r-never" })).rejects.toMatchObject({
      code: "RESERVATION_NOT_FOUND",
      status: "NOT_FOUND",
    });
  });

  it("holds all lines or none, naming the products short of stock or not stocked", async () => {
    const [a, b, c] = [await stocked("prod-t-a", 5), await stocked("prod-t-b", 1), await stocked("prod-t-c", 0)];
    const lines = (...items: Array<[string, number]>) =>
      items.map(([productId, quantity]) => ({ productId, quantity }));
    const short = host.call(inventory.reserve, {
      reservationId: "r-short",
      orderId: "o",
      items: lines([a, 2], [b, 2], [c, 1]),
    });
    await expect(short).rejects.toMatchObject({
      code: "OUT_OF_STOCK",
      status: "FAILED_PRECONDITION",
      details: { productIds: [b, c] },
    });
    // Two lines of one product count together.
    const doubled = host.call(inventory.reserve, {
      reservationId: "r-doubled",
      orderId: "o",
      items: lines([b, 1], [b, 1]),
    });
    await expect(doubled).rejects.toMatchObject({ code: "OUT_OF_STOCK", details: { productIds: [b] } });
    const unknown = host.call(inventory.reserve, {
      reservationId: "r-unknown",
      orderId: "o",
      items: lines([a, 1], ["prod-nowhere", 1], [c, 1]),
    });
    await expect(unknown).rejects.toMatchObject({
      code: "PRODUCT_NOT_STOCKED",
      status: "NOT_FOUND",
      details: { productIds: ["prod-nowhere"] },
    });
    expect(await level(a)).toMatchObject({ available: 5, reserved: 0 });
    expect(await level(b)).toMatchObject({ available: 1, reserved: 0 });
    // A failed reserve leaves nothing behind: the same id may succeed once the stock is there.
    await stocked(b, 2);
    await stocked(c, 1);
    await expect(
      host.call(inventory.reserve, { reservationId: "r-short", orderId: "o", items: lines([a, 2], [b, 2], [c, 1]) }),
    ).resolves.toMatchObject({ reservationId: "r-short" });
    expect(eventsOf("r-doubled")).toEqual([]);
  });

  it("takes one effect from racing duplicates of reserve, commit and release", async () => {
    const p = await stocked("prod-t-race", 10);
    const [r1, r2] = await Promise.all([reserveOne("r-race", p, 4), reserveOne("r-race", p, 4)]);
    expect(r2).toEqual(r1);
    expect(await level(p)).toMatchObject({ available: 6, reserved: 4 });
    const commits = await Promise.all([1, 2, 3].map(() => host.call(inventory.commit, { reservationId: "r-race" })));
    expect(commits.every((c) => c.status === "committed")).toBe(true);
    expect(await level(p)).toEqual({ productId: p, available: 6, reserved: 0 });

    await reserveOne("r-race-2", p, 2);
    const releases = await Promise.all(
      [1, 2, 3].map(() => host.call(inventory.release, { reservationId: "r-race-2" })),
    );
    expect(releases.filter((r) => r.released)).toHaveLength(1);
    expect(await level(p)).toEqual({ productId: p, available: 6, reserved: 0 });

    // Commit against release: whichever wins, the units move once and the loser says so.
    await reserveOne("r-race-3", p, 1);
    const [committed, released] = await Promise.allSettled([
      host.call(inventory.commit, { reservationId: "r-race-3" }),
      host.call(inventory.release, { reservationId: "r-race-3" }),
    ]);
    const after = await level(p);
    if (committed.status === "fulfilled") {
      expect(released).toEqual({ status: "fulfilled", value: { released: false } });
      expect(after).toEqual({ productId: p, available: 5, reserved: 0 });
    } else {
      expect(committed.reason).toMatchObject({ code: "RESERVATION_RELEASED" });
      expect(released).toEqual({ status: "fulfilled", value: { released: true } });
      expect(after).toEqual({ productId: p, available: 6, reserved: 0 });
    }
    await expect
      .poll(() => [eventsOf("r-race"), eventsOf("r-race-2")])
      .toEqual([
        ["inventory.StockReserved", "inventory.StockCommitted"],
        ["inventory.StockReserved", "released"],
      ]);
    await expect.poll(() => eventsOf("r-race-3").length).toBe(2);
  });

  it("never oversells: 50 concurrent reserves for 20 units, exactly 20 succeed", async () => {
    const p = await stocked("prod-t-scarce", 20);
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => reserveOne(`r-scarce-${i}`, p, 1)));
    const failed = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(20);
    for (const f of failed) expect(f.reason).toMatchObject({ code: "OUT_OF_STOCK", details: { productIds: [p] } });
    expect(await level(p)).toEqual({ productId: p, available: 0, reserved: 20 });
  });

  it("follows the catalog: new products start at 0, an admin's stock sets units on hand, reserved kept apart", async () => {
    const id = "prod-t-new";
    await host.call(catalogStandIn.announce, { product: product(id), created: true });
    await expect.poll(() => level(id)).toEqual({ productId: id, available: 0, reserved: 0 });
    await stocked(id, 8);
    await reserveOne("r-follow", id, 3);
    await host.call(catalogStandIn.announce, { product: product(id), created: false, stock: 10 });
    await expect.poll(() => level(id)).toEqual({ productId: id, available: 7, reserved: 3 });
    // A price change carries no stock; a ProductCreated for a stocked product changes nothing.
    await host.call(catalogStandIn.announce, { product: product(id), created: false });
    await host.call(catalogStandIn.announce, { product: product(id), created: true });
    // Nothing to poll for when nothing should change: give both events time to be handled, then look.
    await stocked("prod-t-marker", 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(await level(id)).toEqual({ productId: id, available: 7, reserved: 3 });
  });

  it("needs no caller: every action works without one", async () => {
    // host.call without `caller` is how the saga calls; already exercised above, asserted here explicitly.
    await expect(host.call(inventory.stockLevels, { productIds: ["prod-tamper"] })).resolves.toBeDefined();
  });
});

describe("inventory expiry", () => {
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
    vi.unstubAllEnvs();
  });

  it("releases an expired reservation exactly once through the sweep loop, configured by the environment", async () => {
    vi.stubEnv("SHOP_RESERVATION_SWEEP_MS", "50");
    vi.stubEnv("SHOP_RESERVATION_TTL_MS", "1000");
    vi.stubEnv("SHOP_INITIAL_STOCK", "7");
    const host = await startHost([createInventoryService()]);
    hosts.push(host);
    const p = "prod-moka-pot";
    expect((await host.call(inventory.stockLevels, { productIds: [p] })).items[0]).toMatchObject({ available: 7 });
    const { expiresAt } = await host.call(inventory.reserve, {
      reservationId: "r-expire",
      orderId: "o-expire",
      items: [{ productId: p, quantity: 2 }],
    });
    expect(new Date(expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(1_000);
    await expect.poll(() => eventsOf("r-expire"), { timeout: 5_000 }).toEqual(["inventory.StockReserved", "expired"]);
    expect((await host.call(inventory.stockLevels, { productIds: [p] })).items[0]).toEqual({
      productId: p,
      available: 7,
      reserved: 0,
    });
    await expect(host.call(inventory.commit, { reservationId: "r-expire" })).rejects.toMatchObject({
      code: "RESERVATION_RELEASED",
    });
    expect(await host.call(inventory.release, { reservationId: "r-expire" })).toEqual({ released: false });
    await new Promise((r) => setTimeout(r, 200)); // a few more sweeps: still one release
    expect(eventsOf("r-expire")).toEqual(["inventory.StockReserved", "expired"]);
  });

  it("expires a due hold on commit even before a sweep ran (no sweep loop here)", async () => {
    const host = await startHost([createInventoryService({ sweepMs: 0 })]);
    hosts.push(host);
    const p = "prod-tamper";
    await host.call(inventory.reserve, {
      reservationId: "r-due",
      orderId: "o",
      items: [{ productId: p, quantity: 1 }],
      ttlMs: 1_000,
    });
    await new Promise((r) => setTimeout(r, 1_100));
    await expect(host.call(inventory.commit, { reservationId: "r-due" })).rejects.toMatchObject({
      code: "RESERVATION_RELEASED",
    });
    expect((await host.call(inventory.stockLevels, { productIds: [p] })).items[0]).toMatchObject({ reserved: 0 });
    await expect.poll(() => eventsOf("r-due")).toEqual(["inventory.StockReserved", "expired"]);
  });

  it("rejects unusable settings at start", async () => {
    vi.stubEnv("SHOP_INITIAL_STOCK", "lots");
    const host = createHost({
      services: [createInventoryService()],
      resources: [sqliteDatabases({ dataDir: ":memory:" })],
    });
    await expect(host.start()).rejects.toMatchObject({ code: "FLOTILLA_CONFIG" });
    await host.stop().catch(() => undefined);
  });
});

describe("the expiry sweep as a function", () => {
  it("releases each due reservation once when sweeps race, and leaves the rest", async () => {
    const { db, close } = await openServiceDatabase<InventoryTables>(inventoryService, "sqlite::memory:");
    try {
      await seedStock(db, 10);
      const { emit, events } = recordingEmit();
      const work = { db, emit };
      const now = new Date();
      for (let i = 0; i < 6; i++) {
        const items = [
          { productId: "prod-tamper", quantity: 1 },
          { productId: "prod-descaler", quantity: 1 },
        ];
        await reserve(work, { reservationId: `r-${i}`, orderId: `o-${i}`, items }, i < 5 ? 1_000 : 60_000, now);
      }
      const later = new Date(now.getTime() + 2_000);
      const counts = await Promise.all([1, 2, 3].map(() => sweepExpiredReservations(work, later)));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(5);
      const released = events.filter((e) => e.type === "inventory.StockReleased");
      expect(released.map((e) => e.data.reservationId).sort()).toEqual(["r-0", "r-1", "r-2", "r-3", "r-4"]);
      expect(released.every((e) => e.data.reason === "expired")).toBe(true);
      const stock = await db
        .selectFrom("stock")
        .selectAll()
        .where("product_id", "in", ["prod-tamper", "prod-descaler"])
        .execute();
      for (const row of stock) expect(row).toMatchObject({ on_hand: 10, reserved: 1 });
      const statuses = await db.selectFrom("reservations").select(["id", "status"]).orderBy("id").execute();
      expect(statuses.map((s) => s.status)).toEqual([...Array(5).fill("expired"), "active"]);
      expect(await sweepExpiredReservations(work, later)).toBe(0);
      // Seeding again (a restart, or a second instance) adds nothing and resets nothing.
      expect(await seedStock(db, 99)).toBe(0);
    } finally {
      await close();
    }
  });
});
