/**
 * The inventory on PostgreSQL with two instances sharing one database (and one bus): real concurrent
 * transactions, where SQLite's single writer would serialize them. Reserves never oversell, racing
 * duplicates take one effect, and the two sweep loops expire each reservation exactly once.
 */
import { createHost, defineContract, defineService, type Host, MemoryTransport } from "@flotilla/core";
import { postgresDatabases } from "@flotilla/data";
import { type PostgresHandle, startPostgres } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openServiceDatabase, recordingEmit } from "../../../test/support/service-database.js";
import { inventory } from "./contract.js";
import { sweepExpiredReservations } from "./expiry.js";
import { reserve } from "./reservations.js";
import type { InventoryTables } from "./schema.js";
import { createInventoryService } from "./service.js";

const released: string[] = [];
const observer = defineService(defineContract({ service: "stock-observer" }), {
  actions: {},
  subscriptions: {
    released: {
      event: inventory.StockReleased,
      handle: async ({ reservationId, reason }) => {
        released.push(`${reservationId}:${reason}`);
      },
    },
  },
});

describe("inventory on PostgreSQL, two instances", () => {
  let server: PostgresHandle;
  let url: string;
  const transport = new MemoryTransport({ faithful: true });
  let a: Host;
  let b: Host;
  beforeAll(async () => {
    server = await startPostgres();
    url = `${server.url}?isolation=schema`;
    await transport.connect();
    // Every demo product starts with 20 units; both instances sweep every 20 ms.
    const service = createInventoryService({ initialStock: 20, sweepMs: 20 });
    const host = (id: string, extra: (typeof observer)[]) =>
      createHost({
        id,
        services: [service, ...extra],
        resources: [postgresDatabases({ url })],
        transport,
        validateOutput: true,
      });
    [a, b] = [host("a", [observer]), host("b", [])];
    // Started together: migrations and the seed race, and must each happen once.
    await Promise.all([a.start(), b.start()]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await transport.close();
    await server?.stop();
  });

  const level = async (productId: string) =>
    (await a.call(inventory.stockLevels, { productIds: [productId] })).items[0];
  const reserveOn = (host: Host, reservationId: string, productId: string, quantity = 1, ttlMs?: number) =>
    host.call(inventory.reserve, {
      reservationId,
      orderId: `o-${reservationId}`,
      items: [{ productId, quantity }],
      ...(ttlMs === undefined ? {} : { ttlMs }),
    });

  it("seeds once although both instances started at once", async () => {
    const { items } = await b.call(inventory.stockLevels, {});
    expect(items).toHaveLength(24);
    for (const i of items) expect(i).toMatchObject({ available: 20, reserved: 0 });
  });

  it("never oversells: 50 concurrent reserves over both instances for 20 units, exactly 20 succeed", async () => {
    const p = "prod-french-press";
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => reserveOn(i % 2 ? a : b, `pg-scarce-${i}`, p)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(20);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "OUT_OF_STOCK" });
    expect(await level(p)).toEqual({ productId: p, available: 0, reserved: 20 });
    // Multi-line reserves in opposite orders cannot deadlock: rows are locked in product order.
    const pairs = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).call(inventory.reserve, {
          reservationId: `pg-pair-${i}`,
          orderId: "o",
          items:
            i % 2
              ? [
                  { productId: "prod-knock-box", quantity: 1 },
                  { productId: "prod-ceramic-mug", quantity: 1 },
                ]
              : [
                  { productId: "prod-ceramic-mug", quantity: 1 },
                  { productId: "prod-knock-box", quantity: 1 },
                ],
        }),
      ),
    );
    expect(pairs.every((r) => r.status === "fulfilled")).toBe(true);
    expect(await level("prod-knock-box")).toMatchObject({ available: 0, reserved: 20 });
  });

  it("takes one effect from duplicates racing on both instances", async () => {
    const p = "prod-travel-mug";
    const [r1, r2] = await Promise.all([reserveOn(a, "pg-dup", p, 5), reserveOn(b, "pg-dup", p, 5)]);
    expect(r2).toEqual(r1);
    expect(await level(p)).toMatchObject({ available: 15, reserved: 5 });
    await Promise.all([a, b, a, b].map((h) => h.call(inventory.commit, { reservationId: "pg-dup" })));
    expect(await level(p)).toEqual({ productId: p, available: 15, reserved: 0 });

    await reserveOn(a, "pg-dup-2", p, 5);
    const releases = await Promise.all(
      [a, b, a, b].map((h) => h.call(inventory.release, { reservationId: "pg-dup-2" })),
    );
    expect(releases.filter((r) => r.released)).toHaveLength(1);
    expect(await level(p)).toEqual({ productId: p, available: 15, reserved: 0 });

    // A release racing the reserve it compensates: either the reserve lost (refused, nothing held) or
    // the release released it. Never a hold left behind.
    const [late, early] = await Promise.allSettled([
      reserveOn(a, "pg-dup-3", p, 5),
      b.call(inventory.release, { reservationId: "pg-dup-3" }),
    ]);
    if (late.status === "rejected") expect(late.reason).toMatchObject({ code: "RESERVATION_RELEASED" });
    else expect(early).toEqual({ status: "fulfilled", value: { released: true } });
    expect(await level(p)).toEqual({ productId: p, available: 15, reserved: 0 });
  });

  it("expires each reservation exactly once with both instances sweeping", async () => {
    const p = "prod-chai-blend";
    const ids = Array.from({ length: 10 }, (_, i) => `pg-expire-${i}`);
    await Promise.all(ids.map((id, i) => reserveOn(i % 2 ? a : b, id, p, 1, 1_000)));
    expect(await level(p)).toMatchObject({ reserved: 10 });
    await expect.poll(() => level(p), { timeout: 5_000 }).toEqual({ productId: p, available: 20, reserved: 0 });
    await expect.poll(() => released.filter((r) => r.startsWith("pg-expire-")).length).toBe(10);
    await new Promise((r) => setTimeout(r, 200));
    expect(released.filter((r) => r.startsWith("pg-expire-")).sort()).toEqual(ids.map((id) => `${id}:expired`).sort());
  });

  it("expires once when sweeps race on separate connections", async () => {
    const service = createInventoryService();
    const [x, y] = await Promise.all([
      openServiceDatabase<InventoryTables>(service, url, "inventory-x"),
      openServiceDatabase<InventoryTables>(service, url, "inventory-y"),
    ]);
    try {
      const { emit, events } = recordingEmit();
      const now = new Date();
      const items = [{ productId: "prod-honey-jar", quantity: 1 }];
      for (let i = 0; i < 8; i++) {
        await reserve({ db: x.db, emit }, { reservationId: `pg-sweep-${i}`, orderId: "o", items }, 60_000, now);
      }
      // Far enough ahead that the instances' own loops (which sweep as of their clock) leave these alone.
      const later = new Date(now.getTime() + 120_000);
      const counts = await Promise.all([x, y, x, y].map(({ db }) => sweepExpiredReservations({ db, emit }, later)));
      expect(counts.reduce((s, n) => s + n, 0)).toBe(8);
      expect(events.filter((e) => e.type === "inventory.StockReleased")).toHaveLength(8);
      expect(await level("prod-honey-jar")).toEqual({ productId: "prod-honey-jar", available: 20, reserved: 0 });
    } finally {
      await Promise.all([x.close(), y.close()]);
    }
  });
});
