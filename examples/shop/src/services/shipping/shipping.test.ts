import { action, createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { openServiceDatabase, recordingEmit } from "../../../test/support/service-database.js";
import { orders } from "../orders/contract.js";
import { shipping } from "./contract.js";
import { dispatchDueShipments, scheduleDispatch } from "./dispatch.js";
import type { ShippingTables } from "./schema.js";
import { createShippingService, shippingService } from "./service.js";
import { cancelShipment, createShipment } from "./shipments.js";

type Seen = { type: string; data: { shipmentId: string; dispatchedAt?: string } };
const seen: Seen[] = [];
const observer = defineService(defineContract({ service: "shipping-observer" }), {
  actions: {},
  subscriptions: Object.fromEntries(
    [shipping.ShipmentBooked, shipping.ShipmentCancelled, shipping.ShipmentDispatched].map((ref) => [
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
const eventsOf = (shipmentId: string) =>
  seen.filter((e) => e.data.shipmentId === shipmentId).map((e) => e.type.replace("shipping.", ""));

/** Stands in for the orders service, which only emits here: its saga is not shipping's to run. */
const ordersStandIn = defineContract({
  service: "orders",
  actions: { confirm: action({ input: z.object({ orderId: z.string() }), output: z.object({}) }) },
});
const ordersDouble = defineService(ordersStandIn, {
  actions: {
    async confirm({ orderId }, ctx) {
      await ctx.emit(orders.OrderConfirmed, { orderId, customerId: "user-1", items: [], total: 0, currency: "EUR" });
      return {};
    },
  },
});

const address = { name: "Ada", street: "1 Main St", city: "Lyon", country: "FR" };
const booking = (shipmentId: string, orderId = `order-of-${shipmentId}`, country = "FR") => ({
  shipmentId,
  orderId,
  customerId: "user-1",
  address: { ...address, country },
  items: [{ productId: "prod-tamper", quantity: 1 }],
});

describe("shipping service", () => {
  let host: Host;
  beforeAll(async () => {
    // Dispatch 300 ms after confirmation, swept every 20 ms: from the environment, read at start.
    vi.stubEnv("SHOP_DISPATCH_DELAY_MS", "300");
    vi.stubEnv("SHOP_DISPATCH_SWEEP_MS", "20");
    try {
      host = createHost({
        services: [createShippingService(), observer, ordersDouble],
        resources: [sqliteDatabases({ dataDir: ":memory:" })],
        transport: "memory://?faithful=1",
        validateOutput: true,
      });
      await host.start();
    } finally {
      vi.unstubAllEnvs();
    }
  });
  afterAll(() => host.stop());

  const book = (input: ReturnType<typeof booking>) => host.call(shipping.createShipment, input);
  const cancel = (shipmentId: string) => host.call(shipping.cancelShipment, { shipmentId });

  it("books a shipment once; repeats, racing or not, answer the same", async () => {
    expect(await book(booking("s-book"))).toEqual({ shipmentId: "s-book", status: "booked" });
    expect(await book(booking("s-book"))).toEqual({ shipmentId: "s-book", status: "booked" });
    const raced = await Promise.all([1, 2, 3].map(() => book(booking("s-race"))));
    expect(raced.every((r) => r.status === "booked")).toBe(true);
    await expect.poll(() => [eventsOf("s-book"), eventsOf("s-race")]).toEqual([["ShipmentBooked"], ["ShipmentBooked"]]);
  });

  it("does not serve ZZ, in any case, and stores nothing for it", async () => {
    for (const country of ["ZZ", "zz", "Zz"]) {
      await expect(book(booking("s-zz", "o-zz", country))).rejects.toMatchObject({
        code: "DESTINATION_NOT_SERVED",
        status: "FAILED_PRECONDITION",
        details: { country: "ZZ" },
      });
    }
    // The saga compensates: the cancel finds nothing and leaves a tombstone.
    expect(await cancel("s-zz")).toEqual({ cancelled: false });
    await expect(book(booking("s-zz", "o-zz", "FR"))).rejects.toMatchObject({ code: "SHIPMENT_CANCELLED" });
    expect(eventsOf("s-zz")).toEqual([]);
  });

  it("cancels a booked shipment once, even when cancels race, and refuses to book it again", async () => {
    await book(booking("s-cancel"));
    const results = await Promise.all([1, 2, 3].map(() => cancel("s-cancel")));
    expect(results.filter((r) => r.cancelled)).toHaveLength(1);
    expect(await cancel("s-cancel")).toEqual({ cancelled: false });
    await expect(book(booking("s-cancel"))).rejects.toMatchObject({
      code: "SHIPMENT_CANCELLED",
      status: "FAILED_PRECONDITION",
    });
    await expect.poll(() => eventsOf("s-cancel")).toEqual(["ShipmentBooked", "ShipmentCancelled"]);
  });

  it("remembers a cancel that came before its booking, and refuses the late booking", async () => {
    expect(await cancel("s-early")).toEqual({ cancelled: false });
    await expect(book(booking("s-early"))).rejects.toMatchObject({ code: "SHIPMENT_CANCELLED" });
    expect(eventsOf("s-early")).toEqual([]);
  });

  it("dispatches an order's booked shipments once, after the delay from its confirmation", async () => {
    await book(booking("s-ship-1", "o-ship"));
    await book(booking("s-ship-2", "o-ship"));
    await book(booking("s-ship-cancelled", "o-ship"));
    await cancel("s-ship-cancelled");
    await book(booking("s-unconfirmed", "o-other"));
    const confirmedAt = Date.now();
    await host.call(ordersStandIn.confirm, { orderId: "o-ship" });
    await host.call(ordersStandIn.confirm, { orderId: "o-ship" }); // confirmed twice: scheduled once
    await new Promise((r) => setTimeout(r, 150));
    expect(await book(booking("s-ship-1", "o-ship"))).toMatchObject({ status: "booked" }); // not due yet
    await expect
      .poll(() => [eventsOf("s-ship-1"), eventsOf("s-ship-2")], { timeout: 5_000 })
      .toEqual([
        ["ShipmentBooked", "ShipmentDispatched"],
        ["ShipmentBooked", "ShipmentDispatched"],
      ]);
    const dispatched = seen.find((e) => e.type === "shipping.ShipmentDispatched" && e.data.shipmentId === "s-ship-1");
    expect(new Date(dispatched?.data.dispatchedAt ?? 0).getTime()).toBeGreaterThanOrEqual(confirmedAt + 300);
    expect(await book(booking("s-ship-1", "o-ship"))).toEqual({ shipmentId: "s-ship-1", status: "dispatched" });
    expect(await cancel("s-ship-2")).toEqual({ cancelled: false });
    await new Promise((r) => setTimeout(r, 200)); // more sweeps: nothing more
    expect(eventsOf("s-ship-1")).toEqual(["ShipmentBooked", "ShipmentDispatched"]);
    expect(eventsOf("s-ship-cancelled")).toEqual(["ShipmentBooked", "ShipmentCancelled"]);
    expect(eventsOf("s-unconfirmed")).toEqual(["ShipmentBooked"]);
  });
});

describe("the dispatch sweep as a function", () => {
  it("dispatches each due shipment once when sweeps race, and loses cleanly to a cancellation", async () => {
    const { db, close } = await openServiceDatabase<ShippingTables>(shippingService, "sqlite::memory:");
    try {
      const { emit, events } = recordingEmit();
      const work = { db, emit };
      const now = new Date();
      for (let i = 0; i < 6; i++) await createShipment(work, booking(`d-${i}`, i < 5 ? "o-due" : "o-later"), now);
      expect(await scheduleDispatch(db, "o-due", now)).toBe(5);
      expect(await scheduleDispatch(db, "o-due", new Date(now.getTime() + 60_000))).toBe(0); // the first time stays
      expect(await scheduleDispatch(db, "o-later", new Date(now.getTime() + 60_000))).toBe(1);
      const [c1, c2, c3, cancelled] = await Promise.all([
        dispatchDueShipments(work, now),
        dispatchDueShipments(work, now),
        dispatchDueShipments(work, now),
        cancelShipment(work, "d-0", now),
      ]);
      const dispatchedIds = events
        .filter((e) => e.type === "shipping.ShipmentDispatched")
        .map((e) => e.data.shipmentId);
      expect(new Set(dispatchedIds).size).toBe(dispatchedIds.length);
      expect(c1 + c2 + c3).toBe(dispatchedIds.length);
      // d-0 went one way or the other, never both.
      expect(dispatchedIds.includes("d-0")).toBe(!cancelled.cancelled);
      expect(dispatchedIds.filter((id) => id !== "d-0").sort()).toEqual(["d-1", "d-2", "d-3", "d-4"]);
      const rows = await db.selectFrom("shipments").select(["id", "status"]).orderBy("id").execute();
      expect(rows.find((r) => r.id === "d-5")).toEqual({ id: "d-5", status: "booked" });
      expect(await dispatchDueShipments(work, now)).toBe(0);
    } finally {
      await close();
    }
  });
});
