/**
 * A checkout journal recorded by an earlier build of checkout v1 (fixtures/checkout-v1-in-flight.json:
 * stock reserved, the first charge failed, its retry waiting in the outbox) completes on today's code.
 * Change checkout v1's mappers or hooks freely; if this fails, the change needs a v2 beside v1.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runApp } from "@flotilla/app";
import { waitFor } from "@flotilla/testing";
import { afterAll, describe, expect, it } from "vitest";
import { shopApp } from "../src/app.js";
import { inventory } from "../src/services/inventory/contract.js";
import { orders } from "../src/services/orders/contract.js";
import { type Snapshot, writeSnapshot } from "./support/saga-snapshot.js";

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/checkout-v1-in-flight.json"), "utf8")) as {
  orderId: string;
  snapshot: Snapshot;
};

/** The recording's clock moved to now, as if the new build restarted the shop a moment later. */
function movedToNow(snapshot: Snapshot): Snapshot {
  const now = Date.now();
  const orders = snapshot.orders ?? {};
  const inventoryRows = snapshot.inventory ?? {};
  return {
    orders: {
      ...orders,
      flotilla_sagas: (orders.flotilla_sagas ?? []).map((s) => ({
        ...s,
        started_at: now,
        updated_at: now,
        deadline_at: now + Number(s.deadline_at) - Number(s.started_at),
      })),
      flotilla_outbox: (orders.flotilla_outbox ?? []).map((r) => ({ ...r, available_at: 0, created_at: now })),
    },
    inventory: {
      ...inventoryRows,
      reservations: (inventoryRows.reservations ?? []).map((r) => ({
        ...r,
        expires_at: new Date(now + 15 * 60_000).toISOString(),
      })),
    },
  };
}

describe("a checkout journal recorded by an earlier build", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-replay-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("finishes on today's checkout v1: confirmed, stock taken once, journal continued", async () => {
    // Migrated and seeded by today's build, then given the recorded rows.
    await (await runApp(shopApp, { dataDir })).stop();
    writeSnapshot(dataDir, movedToNow(fixture.snapshot));
    const recordedEntries = (fixture.snapshot.orders?.flotilla_saga_journal ?? []).map((j) => j.entry);
    expect(recordedEntries).toContain("retry-scheduled");

    const app = await runApp(shopApp, { dataDir });
    try {
      const admin = { subject: "user-admin", roles: ["admin"] };
      let order: { status: string } | undefined;
      await waitFor(
        async () => {
          order = await app.host.call(orders.getOrder, { id: fixture.orderId }, { caller: admin });
          return order.status !== "pending";
        },
        { timeoutMs: 20_000, what: "the recorded checkout to finish" },
      );
      expect(order?.status === "confirmed" || order?.status === "shipped").toBe(true);
      const saga = await app.host.call(orders.getSaga, { id: fixture.orderId }, { caller: admin });
      expect(saga.status).toBe("completed");
      const entries = saga.history.map((h) => `${h.entry}${h.step ? `:${h.step}` : ""}`);
      expect(entries.slice(0, recordedEntries.length).map((e) => e.split(":")[0])).toEqual(recordedEntries);
      expect(entries).toContain("step-succeeded:charge");
      expect(entries.at(-1)).toBe("completed");
      const recordedStock = fixture.snapshot.inventory?.stock?.[0] as { on_hand: number; reserved: number };
      const { items } = await app.host.call(inventory.stockLevels, { productIds: ["prod-tea-sampler"] });
      // The reservation recorded (2 units) became a sale: on hand down by 2, nothing left reserved.
      expect(items[0]).toEqual({
        productId: "prod-tea-sampler",
        available: recordedStock.on_hand - 2,
        reserved: 0,
      });
    } finally {
      await app.stop();
    }
  }, 60_000);
});
