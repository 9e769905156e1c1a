/**
 * @module The orders service: prices orders from the catalog, stores them, and runs each one's
 * checkout saga; the order's status follows the saga and, later, the shipment.
 */
import { randomUUID } from "node:crypto";
import { type Context, canAccess, defineService } from "@flotilla/core";
import { database } from "@flotilla/data";
import { sagaOrchestrator } from "@flotilla/saga";
import type { Kysely } from "kysely";
import { catalog } from "../catalog/contract.js";
import { shipping } from "../shipping/contract.js";
import { buyerAddress, buyerSubscriptions } from "./buyers.js";
import { checkoutV1, setStatus } from "./checkout.js";
import { type Order, orders } from "./contract.js";
import { customerOrders, toOrders } from "./order-reads.js";
import { type OrdersTables, ordersMigrations } from "./schema.js";

type Db = Kysely<OrdersTables>;

/** Every checkout version an order in flight may have started on; new orders start on the newest. */
export const checkoutSagas = sagaOrchestrator({ name: "checkout", sagas: [checkoutV1] });
const currentCheckout = checkoutV1;

export const ordersService = defineService(orders, {
  // Least privilege: any other call is refused, and its NATS credentials allow only these (docs/security.md).
  calls: [catalog.getProducts],
  database: database<OrdersTables>({ migrations: ordersMigrations }),
  orchestrators: [checkoutSagas],

  subscriptions: {
    ...buyerSubscriptions,
    // Choreography: shipping announces dispatch on its own clock; a confirmed order becomes shipped.
    shipmentDispatched: {
      event: shipping.ShipmentDispatched,
      async handle({ orderId }, ctx) {
        const order = await ctx.db
          .selectFrom("orders")
          .select(["status", "customer_id"])
          .where("id", "=", orderId)
          .executeTakeFirst();
        if (order?.status !== "confirmed" || order.customer_id === null) return;
        await setStatus(ctx.db, orderId, "shipped", null);
        await ctx.emit(orders.OrderStatusChanged, { orderId, customerId: order.customer_id, status: "shipped" });
      },
    },
  },

  actions: {
    // With an Idempotency-Key, the runtime runs this once per (customer, key) and keeps its answer.
    async createOrder({ items, payment, shipping: given }, ctx) {
      // Orders belong to someone: the gateway lets only signed-in callers here, and so does the service.
      if (ctx.caller === undefined) throw orders.error("SIGN_IN_REQUIRED", "placing an order needs a signed-in caller");
      const customerId = ctx.caller.subject;
      if (payment === undefined) throw orders.error("PAYMENT_REQUIRED", "an order needs payment: { card }");
      // Without one in the order, the buyer's own address (the copy identity's events keep here).
      const address = given ?? (await buyerAddress(ctx.db, customerId));
      if (address === undefined) {
        throw orders.error(
          "ADDRESS_REQUIRED",
          "an order needs shipping: { name, street, city, country }, or an address in the buyer's profile",
        );
      }
      const { items: products } = await ctx.call(catalog.getProducts, { ids: items.map((i) => i.productId) });
      const byId = new Map(products.map((p) => [p.id, p]));
      const currencies = new Set(products.map((p) => p.currency));
      if (currencies.size > 1) {
        throw orders.error("MIXED_CURRENCIES", "an order's products must share one currency", {
          currencies: [...currencies],
        });
      }
      const lines = items.map((item) => {
        const product = byId.get(item.productId);
        if (product === undefined) throw new Error(`catalog omitted ${item.productId}`);
        return { ...item, name: product.name, unitPrice: product.price };
      });
      const order = {
        id: randomUUID(),
        customerId,
        total: lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0),
        currency: products[0]?.currency ?? "EUR",
      };
      const now = new Date().toISOString();
      await ctx.db.transaction().execute(async (trx) => {
        await trx
          .insertInto("orders")
          .values({
            id: order.id,
            customer_id: customerId,
            status: "pending",
            total: order.total,
            currency: order.currency,
            failure_reason: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
        await trx
          .insertInto("order_items")
          .values(
            lines.map((l, line) => ({
              order_id: order.id,
              line,
              product_id: l.productId,
              name: l.name,
              quantity: l.quantity,
              unit_price: l.unitPrice,
            })),
          )
          .execute();
        // Written to the outbox in this transaction: the order, its event and its saga's first
        // command commit together, or none of them does.
        await ctx.emit(orders.OrderPlaced, {
          orderId: order.id,
          customerId,
          items: lines,
          total: order.total,
          currency: order.currency,
        });
        const input = { orderId: order.id, customerId, items: lines, total: order.total, currency: order.currency };
        await checkoutSagas.start(ctx, currentCheckout, { ...input, card: payment.card, address }, { id: order.id });
      });
      ctx.log.info({ orderId: order.id, total: order.total }, "order placed");
      return { orderId: order.id, status: "pending" as const };
    },

    async getOrder({ id }, ctx) {
      const row = await ctx.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirst();
      // Someone else's order is reported as missing, so ids cannot be probed for existence.
      if (row === undefined || !canAccess(ctx.caller, row.customer_id)) {
        throw orders.error("ORDER_NOT_FOUND", `order ${id} does not exist`, { id });
      }
      return (await toOrders(ctx.db, [row]))[0] as Order;
    },

    async listOrders({ limit, cursor }, ctx) {
      if (ctx.caller === undefined) throw orders.error("SIGN_IN_REQUIRED", "listing orders needs a signed-in caller");
      return customerOrders(ctx.db, ctx.caller.subject, limit, cursor);
    },

    async listSagas({ status, limit }, ctx) {
      requireAdmin(ctx);
      return { items: await checkoutSagas.list(ctx.db, { limit, ...(status === undefined ? {} : { status }) }) };
    },

    async getSaga({ id }, ctx) {
      requireAdmin(ctx);
      const saga = await checkoutSagas.get(ctx.db, id);
      if (saga === undefined) throw orders.error("SAGA_NOT_FOUND", `no saga ${id}`, { id });
      // The input carries the card number: it stays in the service, never in an answer.
      const { input: _input, outputs: _outputs, ...shown } = saga;
      return { ...shown, history: [...shown.history] };
    },
  },
});

/** Admin reads are guarded at the gateway too; a caller present without the role is refused here as well. */
function requireAdmin(ctx: Context<Db>): void {
  if (ctx.caller !== undefined && !ctx.caller.roles.includes("admin")) {
    throw orders.error("PERMISSION_DENIED", "saga listings are for admins");
  }
}
