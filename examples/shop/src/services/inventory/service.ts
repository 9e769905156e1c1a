/** @module The inventory service: stock per product, reservations for orders, and their expiry. */
import { defineService, type ServiceDefinition } from "@flotilla/core";
import { database } from "@flotilla/data";
import { catalog } from "../catalog/contract.js";
import { SweepLoops, startSweepLoop } from "../sweep-loop.js";
import { inventory } from "./contract.js";
import { sweepExpiredReservations } from "./expiry.js";
import { commit, release, reserve } from "./reservations.js";
import { type InventoryTables, inventoryMigrations } from "./schema.js";
import { seedStock } from "./seed.js";
import { type InventoryOptions, type InventorySettings, inventorySettings } from "./settings.js";

export type { InventoryOptions } from "./settings.js";

/**
 * The service with its options; `inventoryService` is this with the environment's settings. Actions
 * need no caller: the checkout saga calls them on its own behalf (the gateway guards the admin route).
 */
export function createInventoryService(options: InventoryOptions = {}): ServiceDefinition {
  // Per instance, read when it starts: two hosts in one process (tests) may run with different settings.
  const settingsByInstance = new Map<string, InventorySettings>();
  const settingsOf = (instance: string | undefined) =>
    settingsByInstance.get(instance ?? "") ?? inventorySettings(options);
  const loops = new SweepLoops();

  return defineService(inventory, {
    // Calls no other service: a call to one is refused, and its NATS credentials allow none (docs/security.md).
    calls: [],
    database: database<InventoryTables>({ migrations: inventoryMigrations }),

    async start(ctx) {
      const settings = inventorySettings(options);
      settingsByInstance.set(ctx.instance ?? "", settings);
      const seeded = await seedStock(ctx.db, settings.initialStock);
      if (seeded > 0) ctx.log.info({ products: seeded, units: settings.initialStock }, "seeded the demo stock");
      if (settings.sweepMs > 0) {
        // The start hook's context outlives the hook: its database and emit serve the loop until stop.
        const sweep = async () => {
          const expired = await sweepExpiredReservations(ctx);
          if (expired > 0) ctx.log.info({ expired }, "expired reservations released");
        };
        loops.add(ctx.instance, startSweepLoop("inventory.expiry", settings.sweepMs, sweep, ctx.log));
      }
    },

    async stop(ctx) {
      await loops.stop(ctx.instance);
      settingsByInstance.delete(ctx.instance ?? "");
    },

    actions: {
      reserve({ reservationId, orderId, items, ttlMs }, ctx) {
        const ttl = ttlMs ?? settingsOf(ctx.instance).reservationTtlMs;
        return reserve(ctx, { reservationId, orderId, items }, ttl);
      },

      commit({ reservationId }, ctx) {
        return commit(ctx, reservationId);
      },

      async release({ reservationId }, ctx) {
        const { released, found } = await release(ctx, reservationId);
        if (found === "committed") {
          // Not an error for an idempotent compensation, but worth seeing: sold units stay sold.
          ctx.log.warn({ reservationId }, "release of a committed reservation: its units stay sold");
        }
        return { released };
      },

      async stockLevels({ productIds }, ctx) {
        if (productIds !== undefined && productIds.length === 0) return { items: [] };
        let query = ctx.db.selectFrom("stock").select(["product_id", "on_hand", "reserved"]);
        if (productIds !== undefined) query = query.where("product_id", "in", productIds);
        const rows = await query.execute();
        // Sorted here, by code unit: a database's collation (PostgreSQL's locale) may order ids otherwise.
        rows.sort((a, b) => (a.product_id < b.product_id ? -1 : a.product_id > b.product_id ? 1 : 0));
        // Negative `available` only if an admin set fewer units on hand than active reservations hold.
        return {
          items: rows.map((r) => ({
            productId: r.product_id,
            available: Number(r.on_hand) - Number(r.reserved),
            reserved: Number(r.reserved),
          })),
        };
      },
    },

    subscriptions: {
      // Each runs exactly once per event, in the inbox's transaction (ctx.db is that transaction).
      productCreated: {
        event: catalog.ProductCreated,
        async handle({ id }, ctx) {
          await ctx.db
            .insertInto("stock")
            .values({ product_id: id, on_hand: 0, reserved: 0, updated_at: new Date().toISOString() })
            .onConflict((oc) => oc.column("product_id").doNothing())
            .execute();
        },
      },
      productUpdated: {
        event: catalog.ProductUpdated,
        async handle({ id, stock }, ctx) {
          if (stock === undefined) return; // a price change: nothing for the inventory
          // Set absolutely, as the admin asked; reserved units are kept apart and untouched.
          const onHand = Math.max(0, stock);
          const updated_at = new Date().toISOString();
          await ctx.db
            .insertInto("stock")
            .values({ product_id: id, on_hand: onHand, reserved: 0, updated_at })
            .onConflict((oc) => oc.column("product_id").doUpdateSet({ on_hand: onHand, updated_at }))
            .execute();
        },
      },
    },
  });
}

export const inventoryService = createInventoryService();
