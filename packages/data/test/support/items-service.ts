/** @module The service the data conformance suite runs on every engine: portable migrations, typed CRUD, transactions. */
import { randomUUID } from "node:crypto";
import { action, defineContract, defineService, type ServiceDefinition } from "@flotilla/core";
import { z } from "zod";
import { database, isUniqueViolation, type Kysely, type Migration, sql } from "../../src/index.js";

export interface ItemsSchema {
  items: { id: string; name: string; quantity: number; created_at: string };
}

const Item = z.object({ id: z.string(), name: z.string(), quantity: z.number() });
const empty = z.object({});

export function itemsContract(service: string) {
  return defineContract({
    service,
    actions: {
      put: action({
        // A null name is let through so tests can break a NOT NULL constraint on purpose.
        input: z.object({ id: z.string().optional(), name: z.string().nullable(), quantity: z.number().int() }),
        output: z.object({ id: z.string(), created: z.boolean() }),
      }),
      get: action({ input: z.object({ id: z.string() }), output: Item.nullable() }),
      list: action({ input: empty, output: z.array(Item) }),
      setQuantity: action({ input: z.object({ id: z.string(), quantity: z.number() }), output: z.number() }),
      remove: action({ input: z.object({ id: z.string() }), output: z.number() }),
      count: action({ input: empty, output: z.object({ n: z.unknown() }) }),
      transfer: action({
        input: z.object({ from: z.string(), to: z.string(), amount: z.number(), fail: z.boolean() }),
        output: z.object({}),
      }),
      countRows: action({ input: z.object({ table: z.string() }), output: z.number() }),
      raw: action({ input: z.object({ sql: z.string() }), output: z.array(z.record(z.string(), z.unknown())) }),
    },
  });
}

/** Portable on SQLite and PostgreSQL: text ids (no autoIncrement, which PostgreSQL spells differently). */
export function itemsTable(onUp: () => void = () => {}): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
    async up(db: Kysely<any>) {
      onUp();
      await db.schema
        .createTable("items")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("quantity", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
    },
  };
}

export function createTableMigration(table: string): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
    async up(db: Kysely<any>) {
      await db.schema
        .createTable(table)
        .addColumn("id", "text", (c) => c.primaryKey())
        .execute();
    },
  };
}

export function itemsService(
  service: string,
  migrations: Record<string, Migration> = { "001_items": itemsTable() },
): ServiceDefinition {
  return defineService(itemsContract(service), {
    database: database<ItemsSchema>({ migrations }),
    actions: {
      async put({ id = randomUUID(), name, quantity }, ctx) {
        const created_at = new Date().toISOString();
        try {
          await ctx.db
            .insertInto("items")
            .values({ id, name: name as string, quantity, created_at })
            .execute();
          return { id, created: true };
        } catch (err) {
          if (isUniqueViolation(err)) return { id, created: false };
          throw err;
        }
      },
      async get({ id }, ctx) {
        const row = await ctx.db
          .selectFrom("items")
          .select(["id", "name", "quantity"])
          .where("id", "=", id)
          .executeTakeFirst();
        return row ?? null;
      },
      async list(_, ctx) {
        return ctx.db.selectFrom("items").select(["id", "name", "quantity"]).orderBy("name").execute();
      },
      async setQuantity({ id, quantity }, ctx) {
        const result = await ctx.db.updateTable("items").set({ quantity }).where("id", "=", id).executeTakeFirst();
        return Number(result.numUpdatedRows);
      },
      async remove({ id }, ctx) {
        const result = await ctx.db.deleteFrom("items").where("id", "=", id).executeTakeFirst();
        return Number(result.numDeletedRows);
      },
      async count(_, ctx) {
        const row = await ctx.db
          .selectFrom("items")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        return { n: row.n };
      },
      async transfer({ from, to, amount, fail }, ctx) {
        await ctx.db.transaction().execute(async (trx) => {
          await trx
            .updateTable("items")
            .set((eb) => ({ quantity: eb("quantity", "-", amount) }))
            .where("id", "=", from)
            .execute();
          await trx
            .updateTable("items")
            .set((eb) => ({ quantity: eb("quantity", "+", amount) }))
            .where("id", "=", to)
            .execute();
          if (fail) throw new Error("transfer refused after both updates");
        });
        return {};
      },
      async countRows({ table }, ctx) {
        const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.raw(table)}`.execute(ctx.db);
        return Number(rows[0]?.n);
      },
      async raw(input, ctx) {
        const { rows } = await sql.raw<Record<string, unknown>>(input.sql).execute(ctx.db);
        return rows;
      },
    },
  });
}
