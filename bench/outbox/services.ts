/**
 * @module The services of the outbox benchmark: a writer (one row per call, with or without an event
 * emitted in the same transaction), a source that emits at a paced rate and stamps each commit, and a
 * sink whose handler stamps when it starts.
 */

import { randomUUID } from "node:crypto";
import { action, type Context, defineContract, defineService, event, type ServiceDefinition } from "@flotilla/core";
import { database, type Kysely, type ServiceDatabase } from "@flotilla/data";
import { z } from "zod";
import { type OrdersTables, ordersMigrations } from "../../examples/shop/src/services/orders/schema.js";

/** The row every case inserts: the same table, columns and values in each peer. */
export interface ItemsTable {
  id: number;
  name: string;
  qty: number;
  created_at: number;
}

/** The shop's order transaction (examples/shop orders service): an order row and its lines. */
export type OrdersTable = OrdersTables["orders"];
export type OrderItemsTable = OrdersTables["order_items"];

export interface BenchTables {
  items: ItemsTable;
  orders: OrdersTable;
  order_items: OrderItemsTable;
}

export const ITEMS_DDL = {
  sqlite:
    "create table items (id integer primary key, name text not null, qty integer not null, created_at bigint not null)",
  postgres:
    "create table items (id bigint primary key, name text not null, qty integer not null, created_at bigint not null)",
} as const;

const migrations = {
  "001_items": {
    // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
    up: (db: Kysely<any>) =>
      db.schema
        .createTable("items")
        .addColumn("id", "bigint", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("qty", "integer", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute(),
  },
  // The shop's own orders tables, indexes included.
  "002_orders": ordersMigrations["001_orders"],
};

/** An order of three lines, priced, as the shop's createOrder builds it. */
export function order(id: number) {
  const lines = [
    { productId: "kettle", quantity: 1 + (id % 3), name: "Kettle", unitPrice: 2999 },
    { productId: "teapot", quantity: 1, name: "Teapot", unitPrice: 1999 },
    { productId: "mug", quantity: 4, name: "Mug", unitPrice: 799 },
  ];
  return {
    id: randomUUID(),
    customerId: `customer-${id % 1000}`,
    lines,
    total: lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0),
    currency: "EUR",
  };
}

type Order = ReturnType<typeof order>;

/** The shop's order transaction: the order row and its lines (one multi-row insert), as createOrder writes them. */
async function insertOrder(trx: Kysely<BenchTables & OutboxView>, o: Order): Promise<void> {
  const now = new Date().toISOString();
  await trx
    .insertInto("orders")
    .values({
      id: o.id,
      customer_id: o.customerId,
      status: "pending",
      total: o.total,
      currency: o.currency,
      failure_reason: null,
      idempotency_key: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await trx
    .insertInto("order_items")
    .values(
      o.lines.map((l, line) => ({
        order_id: o.id,
        line,
        product_id: l.productId,
        name: l.name,
        quantity: l.quantity,
        unit_price: l.unitPrice,
      })),
    )
    .execute();
}

export function row(id: number): ItemsTable {
  return { id, name: "kettle", qty: id % 100, created_at: Date.now() };
}

const item = z.object({ id: z.number().int(), name: z.string().max(64), qty: z.number().int() });

/** The shop's OrderPlaced event (examples/shop/src/services/orders/contract.ts). */
const orderPlaced = z.object({
  orderId: z.string(),
  customerId: z.string().nullable(),
  items: z.array(
    z.object({
      productId: z.string().min(1).max(100),
      quantity: z.number().int().min(1).max(100),
      name: z.string(),
      unitPrice: z.number().int(),
    }),
  ),
  total: z.number().int(),
  currency: z.string(),
});

// The writer: the plain and the outbox write, side by side in one service.

export function writerContract(service: string) {
  return defineContract({
    service,
    actions: {
      /** Inserts one row in a transaction. */
      plain: action({ input: z.object({ id: z.number().int() }), output: z.object({}) }),
      /** The same insert and one `ctx.emit` in the same transaction. */
      outbox: action({ input: z.object({ id: z.number().int() }), output: z.object({}) }),
      /** The shop's order transaction: an order row and its three lines. */
      order: action({ input: z.object({ id: z.number().int() }), output: z.object({}) }),
      /** The same and one `ctx.emit` of the shop's OrderPlaced in that transaction. */
      orderOutbox: action({ input: z.object({ id: z.number().int() }), output: z.object({}) }),
      /** Rows in `items` (or `orders`) and in the outbox, to check the work done. */
      stats: action({
        input: z.object({ table: z.enum(["items", "orders"]).optional() }),
        output: z.object({ rows: z.number(), outbox: z.number() }),
      }),
    },
    events: { Written: event({ schema: item }), OrderPlaced: event({ schema: orderPlaced }) },
  });
}

export function writerService(service: string): ServiceDefinition {
  const api = writerContract(service);
  return defineService(api, {
    database: database<BenchTables & OutboxView>({ migrations }),
    actions: {
      async plain({ id }, ctx) {
        await ctx.db.transaction().execute(async (trx) => {
          await trx.insertInto("items").values(row(id)).execute();
        });
        return {};
      },
      async outbox({ id }, ctx) {
        await ctx.db.transaction().execute(async (trx) => {
          const r = row(id);
          await trx.insertInto("items").values(r).execute();
          await ctx.emit(api.Written, { id, name: r.name, qty: r.qty });
        });
        return {};
      },
      async order({ id }, ctx) {
        const o = order(id);
        await ctx.db.transaction().execute(async (trx) => {
          await insertOrder(trx, o);
        });
        return {};
      },
      async orderOutbox({ id }, ctx) {
        const o = order(id);
        await ctx.db.transaction().execute(async (trx) => {
          await insertOrder(trx, o);
          await ctx.emit(api.OrderPlaced, {
            orderId: o.id,
            customerId: o.customerId,
            items: o.lines,
            total: o.total,
            currency: o.currency,
          });
        });
        return {};
      },
      async stats({ table }, ctx) {
        const rows = await ctx.db
          .selectFrom(table ?? "items")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        const outbox = await ctx.db
          .selectFrom("flotilla_outbox")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        return { rows: Number(rows.n), outbox: Number(outbox.n) };
      },
    },
  });
}

/** The part of Flotilla's own tables the benchmark reads. */
interface OutboxView {
  flotilla_outbox: { seq: number; event_id: string };
}

// The latency pair: a source emitting at a steady rate, a sink handling its events.

const placed = z.object({ id: z.number().int(), name: z.string().max(64), qty: z.number().int(), w: z.boolean() });

export function sourceContract(service: string) {
  return defineContract({ service, events: { Placed: event({ schema: placed }) } });
}

type SourceDb = Kysely<BenchTables & OutboxView>;

export interface Source {
  readonly definition: ServiceDefinition;
  readonly contract: ReturnType<typeof sourceContract>;
  /** Inserts a row and emits one event in one transaction of the source's database. */
  place(id: number, warmup: boolean): Promise<void>;
  /** Events committed but not yet confirmed by the transport. */
  outboxRows(): Promise<number>;
}

/**
 * The emitting code runs in the source service with the context its start hook got: the same
 * `ctx.db.transaction()` and `ctx.emit` an action runs, without a request through the transport
 * (over NATS, `host.call` would add an RPC round trip per event that has nothing to do with the outbox).
 *
 * `onCommit(id)` runs right after the transaction that wrote event `id` committed: it is the first of
 * the transaction's after-commit callbacks (pushed before `ctx.emit`, which pushes the relay's wake).
 */
export function source(service: string, onCommit: (id: number) => void): Source {
  const api = sourceContract(service);
  let ctx: Context<SourceDb> | undefined;
  const started = () => {
    if (ctx === undefined) throw new Error(`${service} has not started`);
    return ctx;
  };
  const definition = defineService(api, {
    database: database<BenchTables & OutboxView>({ migrations }),
    actions: {},
    start: async (c) => {
      ctx = c;
    },
  });
  return {
    definition,
    contract: api,
    async place(id, w) {
      const c = started();
      const db = c.db as unknown as ServiceDatabase;
      await c.db.transaction().execute(async (trx) => {
        const r = row(id);
        await trx.insertInto("items").values(r).execute();
        db.current()?.afterCommit.push(() => onCommit(id));
        await c.emit(api.Placed, { id, name: r.name, qty: r.qty, w });
      });
    },
    async outboxRows() {
      const n = await started()
        .db.selectFrom("flotilla_outbox")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(n.n);
    },
  };
}

const sinkApi = (service: string) => defineContract({ service });

/** Exactly-once (the default): the handler runs in a transaction of the sink's database with the inbox record. */
export function sinkService(
  service: string,
  source: ReturnType<typeof sourceContract>,
  onHandle: (id: number) => void,
): ServiceDefinition {
  return defineService(sinkApi(service), {
    database: database<BenchTables>({ migrations }),
    actions: {},
    subscriptions: {
      placed: {
        event: source.Placed,
        async handle({ id }, ctx) {
          onHandle(id);
          // The handler's effect, in the transaction that also holds the inbox record.
          await ctx.db.insertInto("items").values(row(id)).execute();
        },
      },
    },
  });
}
