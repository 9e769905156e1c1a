/** @module The shipping service: shipments booked for orders, dispatched a while after the order is confirmed. */
import { defineService, type ServiceDefinition } from "@flotilla/core";
import { database } from "@flotilla/data";
import { orders } from "../orders/contract.js";
import { SweepLoops, startSweepLoop } from "../sweep-loop.js";
import { shipping } from "./contract.js";
import {
  type DispatchOptions,
  type DispatchSettings,
  dispatchDueShipments,
  dispatchSettings,
  scheduleDispatch,
} from "./dispatch.js";
import { type ShippingTables, shippingMigrations } from "./schema.js";
import { cancelShipment, createShipment } from "./shipments.js";

export type ShippingOptions = DispatchOptions;

/**
 * The service with its options; `shippingService` is this with the environment's settings. Actions
 * need no caller: the checkout saga calls them on its own behalf, with the customer named in the input.
 */
export function createShippingService(options: ShippingOptions = {}): ServiceDefinition {
  // Per instance, read when it starts: two hosts in one process (tests) may run with different settings.
  const settingsByInstance = new Map<string, DispatchSettings>();
  const settingsOf = (instance: string | undefined) =>
    settingsByInstance.get(instance ?? "") ?? dispatchSettings(options);
  const loops = new SweepLoops();

  return defineService(shipping, {
    // Calls no other service: a call to one is refused, and its NATS credentials allow none (docs/security.md).
    calls: [],
    database: database<ShippingTables>({ migrations: shippingMigrations }),

    async start(ctx) {
      const settings = dispatchSettings(options);
      settingsByInstance.set(ctx.instance ?? "", settings);
      if (settings.sweepMs > 0) {
        // The start hook's context outlives the hook: its database and emit serve the loop until stop.
        const sweep = async () => {
          const dispatched = await dispatchDueShipments(ctx);
          if (dispatched > 0) ctx.log.info({ dispatched }, "shipments dispatched");
        };
        loops.add(ctx.instance, startSweepLoop("shipping.dispatch", settings.sweepMs, sweep, ctx.log));
      }
    },

    async stop(ctx) {
      await loops.stop(ctx.instance);
      settingsByInstance.delete(ctx.instance ?? "");
    },

    actions: {
      createShipment: (input, ctx) => createShipment(ctx, input),
      cancelShipment: ({ shipmentId }, ctx) => cancelShipment(ctx, shipmentId),
    },

    subscriptions: {
      // Exactly once per event (the inbox's transaction): a redelivered confirmation schedules nothing twice.
      orderConfirmed: {
        event: orders.OrderConfirmed,
        async handle({ orderId }, ctx) {
          const dispatchAt = new Date(Date.now() + settingsOf(ctx.instance).dispatchDelayMs);
          const scheduled = await scheduleDispatch(ctx.db, orderId, dispatchAt);
          if (scheduled === 0) ctx.log.info({ orderId }, "order confirmed with no booked shipment to dispatch");
        },
      },
    },
  });
}

export const shippingService = createShippingService();
