/** @module The shipping contract: shipments for confirmed orders, dispatched after a delay. */
import { action, defineContract, event, sensitive } from "@flotilla/core";
import { z } from "zod";

/** Chosen by the caller (a saga step id): the same id again is the same shipment. */
const ShipmentId = z.string().min(1).max(200);

export const Address = z.object({
  name: z.string().min(1).max(200),
  street: sensitive(z.string().min(1).max(200)),
  city: z.string().min(1).max(100),
  /** ISO 3166 alpha-2; `ZZ` is never served (the test address). */
  country: z.string().length(2),
});
export type Address = z.infer<typeof Address>;

export const shipping = defineContract({
  service: "shipping",
  version: "1.0.0",
  actions: {
    createShipment: action({
      description: "Books a shipment for an order (dispatched once the order is confirmed). Idempotent by shipmentId",
      input: z.object({
        shipmentId: ShipmentId,
        orderId: z.string().min(1).max(100),
        customerId: z.string().min(1).max(200),
        address: Address,
        items: z
          .array(z.object({ productId: z.string(), quantity: z.number().int().positive() }))
          .min(1)
          .max(50),
      }),
      output: z.object({ shipmentId: z.string(), status: z.enum(["booked", "dispatched"]) }),
      idempotent: true,
    }),
    cancelShipment: action({
      description:
        "Cancels a booked shipment. Idempotent; an unknown id is remembered as cancelled, so a late booking with it is refused",
      input: z.object({ shipmentId: ShipmentId }),
      output: z.object({ cancelled: z.boolean() }),
      idempotent: true,
    }),
  },
  events: {
    ShipmentBooked: event({ schema: z.object({ shipmentId: z.string(), orderId: z.string() }) }),
    ShipmentCancelled: event({ schema: z.object({ shipmentId: z.string(), orderId: z.string() }) }),
    ShipmentDispatched: event({
      schema: z.object({ shipmentId: z.string(), orderId: z.string(), dispatchedAt: z.iso.datetime() }),
    }),
  },
  errors: {
    /** Terminal: the address's country is not served. */
    DESTINATION_NOT_SERVED: "FAILED_PRECONDITION",
    /** Terminal: the shipment was cancelled before this booking arrived. */
    SHIPMENT_CANCELLED: "FAILED_PRECONDITION",
  },
});
