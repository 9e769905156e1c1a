/** @module The orders service: prices orders from the catalog, stores them and announces them. */
import { randomUUID } from "node:crypto";
import { type Context, defineService, type Identity } from "@flotilla/core";
import { database, isUniqueViolation } from "@flotilla/data";
import type { Kysely } from "kysely";
import { catalog } from "../catalog/contract.js";
import { type Order, orders } from "./contract.js";
import { type OrdersTables, ordersMigrations } from "./schema.js";

type Db = Kysely<OrdersTables>;

export const ordersService = defineService(orders, {
  database: database<OrdersTables>({ migrations: ordersMigrations }),

  actions: {
    async createOrder({ items, idempotencyKey }, ctx) {
      const customerId = ctx.caller?.subject ?? null;
      if (idempotencyKey !== undefined) {
        const existing = await findByKey(ctx.db, customerId, idempotencyKey);
        if (existing) return { orderId: existing.id, status: existing.status as Order["status"] };
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
      try {
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
              idempotency_key: idempotencyKey ?? null,
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
          // Written to the outbox in this transaction: the order and its event commit together.
          await ctx.emit(orders.OrderPlaced, {
            orderId: order.id,
            customerId,
            items: lines,
            total: order.total,
            currency: order.currency,
          });
        });
      } catch (err) {
        // Two requests with one idempotency key raced; the loser answers with the winner's order.
        if (idempotencyKey === undefined || !isUniqueViolation(err)) throw err;
        const winner = await findByKey(ctx.db, customerId, idempotencyKey);
        if (winner === undefined) throw err;
        return { orderId: winner.id, status: winner.status as Order["status"] };
      }
      ctx.log.info({ orderId: order.id, total: order.total }, "order placed");
      return { orderId: order.id, status: "pending" as const };
    },

    async getOrder({ id }, ctx) {
      const row = await ctx.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirst();
      // Someone else's order is reported as missing, so ids cannot be probed for existence.
      if (row === undefined || !mayRead(ctx, row.customer_id)) {
        throw orders.error("ORDER_NOT_FOUND", `order ${id} does not exist`, { id });
      }
      const lines = await ctx.db
        .selectFrom("order_items")
        .selectAll()
        .where("order_id", "=", id)
        .orderBy("line")
        .execute();
      return {
        id: row.id,
        status: row.status as Order["status"],
        items: lines.map((l) => ({
          productId: l.product_id,
          name: l.name,
          quantity: l.quantity,
          unitPrice: l.unit_price,
        })),
        total: row.total,
        currency: row.currency,
        ...(row.failure_reason ? { failureReason: row.failure_reason } : {}),
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      };
    },
  },
});

function findByKey(db: Db, customerId: string | null, key: string) {
  let query = db.selectFrom("orders").select(["id", "status"]).where("idempotency_key", "=", key);
  query = customerId === null ? query.where("customer_id", "is", null) : query.where("customer_id", "=", customerId);
  return query.executeTakeFirst();
}

function mayRead(ctx: Context<unknown>, owner: string | null): boolean {
  if (owner === null) return true;
  const caller: Identity | undefined = ctx.caller;
  return caller !== undefined && (caller.subject === owner || caller.roles.includes("admin"));
}
