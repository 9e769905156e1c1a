/**
 * @module Orders' local copy of its buyers (name and postal address), kept from identity's events
 * (choreography): an order can be shipped to the buyer's address without calling identity.
 */
import type { Context, EventMeta } from "@flotilla/core";
import type { Kysely, Migration } from "kysely";
import type { z } from "zod";
import { identity } from "../identity/contract.js";

export interface BuyersTable {
  user_id: string;
  name: string;
  /** The address: all three set, or all three null (none given yet). */
  street: string | null;
  city: string | null;
  country: string | null;
  /** Emission time of the identity event the copy was last taken from (ISO-8601, UTC). */
  updated_at: string;
}

export interface BuyersTables {
  buyers: BuyersTable;
}

type Db = Kysely<BuyersTables>;

/**
 * The orders database holds more tables than these; Kysely's types are invariant in the tables, so the
 * handlers accept any database that has `buyers` and narrow it here, once.
 */
function buyersOf<DB extends BuyersTables>(db: Kysely<DB>): Db {
  return db as unknown as Db;
}

/** Add it to the orders migrations under the next free name (e.g. `002_buyers`). */
export const buyersMigration: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable("buyers")
      .addColumn("user_id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("street", "text")
      .addColumn("city", "text")
      .addColumn("country", "text")
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
  },
};

/**
 * Spread into the orders service's `subscriptions`. The two are separate subscriptions, so a
 * UserUpdated may be applied before the UserRegistered it follows, or an old one redelivered late:
 * each write carries the event's emission time and replaces only an older copy.
 */
export const buyerSubscriptions = {
  buyerRegistered: {
    event: identity.UserRegistered,
    async handle<DB extends BuyersTables>(
      { userId, name }: z.output<typeof identity.UserRegistered.schema>,
      ctx: Context<Kysely<DB>>,
      meta: EventMeta,
    ): Promise<void> {
      await keepCopy(buyersOf(ctx.db), { user_id: userId, name, street: null, city: null, country: null }, meta);
    },
  },
  buyerUpdated: {
    event: identity.UserUpdated,
    async handle<DB extends BuyersTables>(
      { id, name, address }: z.output<typeof identity.UserUpdated.schema>,
      ctx: Context<Kysely<DB>>,
      meta: EventMeta,
    ): Promise<void> {
      const where = { street: address?.street ?? null, city: address?.city ?? null, country: address?.country ?? null };
      await keepCopy(buyersOf(ctx.db), { user_id: id, name, ...where }, meta);
    },
  },
};

/** The buyer's name and address as createOrder's `shipping` takes them; undefined without a stored address. */
export async function buyerAddress<DB extends BuyersTables>(
  db: Kysely<DB>,
  userId: string,
): Promise<{ name: string; street: string; city: string; country: string } | undefined> {
  const row = await buyersOf(db).selectFrom("buyers").selectAll().where("user_id", "=", userId).executeTakeFirst();
  if (row === undefined || row.street === null || row.city === null || row.country === null) return undefined;
  return { name: row.name, street: row.street, city: row.city, country: row.country };
}

/** One statement, so two handlers racing for one buyer cannot both pass a read-then-write check. */
async function keepCopy(db: Db, copy: Omit<BuyersTable, "updated_at">, meta: EventMeta): Promise<void> {
  // One textual form for every stored time, so comparing the strings compares the times.
  const at = new Date(meta.envelope.time).toISOString();
  const { user_id: _, ...changes } = copy;
  await db
    .insertInto("buyers")
    .values({ ...copy, updated_at: at })
    .onConflict((oc) =>
      oc
        .column("user_id")
        .doUpdateSet({ ...changes, updated_at: at })
        .where("buyers.updated_at", "<=", at),
    )
    .execute();
}
