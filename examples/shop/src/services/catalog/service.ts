/**
 * @module The catalog service: products, search, cursor pagination and admin updates over its own database.
 * `catalogService` is version 2 (with `getProductV2`); `catalogServiceV1` is the same code at 1.x, for
 * running both versions side by side while traffic moves (docs/traffic.md).
 */
import { defineService, type EventRef, type ServiceOptions } from "@flotilla/core";
import { database } from "@flotilla/data";
import { type CompiledQuery, type Kysely, sql } from "kysely";
import { catalog, catalogV1, type Product, type ProductV2 } from "./contract.js";
import { salesProjection } from "./sales.js";
import { type CatalogTables, catalogMigrations } from "./schema.js";
import { demoProducts } from "./seed.js";

const columns = ["id", "name", "description", "price", "currency"] as const;

type ProductRow = Pick<Product, (typeof columns)[number]>;
const productByIdTemplates = new WeakMap<Kysely<CatalogTables>, CompiledQuery<ProductRow>>();

/**
 * The product lookup, the catalog's hottest query: built and compiled once per database (by its own
 * dialect), then only given the id, which stays a bound parameter. Building and compiling it on every
 * call cost more than SQLite running it.
 */
function productById(db: Kysely<CatalogTables>, id: string): CompiledQuery<ProductRow> {
  let template = productByIdTemplates.get(db);
  if (template === undefined) {
    template = db.selectFrom("products").select(columns).where("id", "=", id).compile();
    if (template.parameters.length !== 1 || template.parameters[0] !== id) {
      throw new Error("the product lookup compiled its parameters in an unexpected way");
    }
    productByIdTemplates.set(db, template);
  }
  return { ...template, parameters: [id] };
}

/** The catalog at 1.x; version 2 adds one action to the same code. */
const v1Options: ServiceOptions<typeof catalogV1, Kysely<CatalogTables>, Record<never, EventRef>> = {
  // Calls no other service: a call to one is refused, and its NATS credentials allow none (docs/security.md).
  calls: [],
  database: database<CatalogTables>({ migrations: catalogMigrations }),
  projections: [salesProjection],

  async start(ctx) {
    const { count } = await ctx.db
      .selectFrom("products")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .executeTakeFirstOrThrow();
    if (Number(count) > 0) return;
    // The products and their ProductCreated events commit together (the events go through the outbox).
    await ctx.db.transaction().execute(async (trx) => {
      await seed(trx, demoProducts);
      for (const product of demoProducts) await ctx.emit(catalog.ProductCreated, product);
    });
    ctx.log.info({ products: demoProducts.length }, "seeded the demo catalog");
  },

  actions: {
    async listProducts({ q, limit, cursor }, ctx) {
      let query = ctx.db
        .selectFrom("products")
        .select(columns)
        .orderBy("id")
        .limit(limit + 1);
      if (q) {
        // Portable case-insensitive substring match (SQLite and PostgreSQL), with LIKE wildcards escaped.
        const pattern = `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        query = query.where((eb) =>
          eb.or([
            eb(sql`lower(name)`, "like", sql`${pattern} escape '\\'`),
            eb(sql`lower(description)`, "like", sql`${pattern} escape '\\'`),
          ]),
        );
      }
      if (cursor !== undefined) query = query.where("id", ">", decodeCursor(cursor));
      const rows = await query.execute();
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
    },

    async getProduct({ id }, ctx) {
      const [product] = (await ctx.db.executeQuery(productById(ctx.db, id))).rows;
      if (product === undefined) throw catalog.error("PRODUCT_NOT_FOUND", `product ${id} does not exist`, { id });
      return product;
    },

    async getProducts({ ids }, ctx) {
      const unique = [...new Set(ids)];
      const items = await ctx.db.selectFrom("products").select(columns).where("id", "in", unique).execute();
      const found = new Set(items.map((p) => p.id));
      const missing = unique.filter((id) => !found.has(id));
      if (missing.length > 0) {
        throw catalog.error("PRODUCT_NOT_FOUND", `unknown products: ${missing.join(", ")}`, { ids: missing });
      }
      return { items };
    },

    async updateProduct({ id, price, stock }, ctx) {
      // The gateway lets only admins here; a caller that reached the service another way is checked too.
      // No caller at all is the shop's own work (a seed, a script), which may.
      if (ctx.caller !== undefined && !ctx.caller.roles.includes("admin")) {
        throw catalog.error("PERMISSION_DENIED", "updating a product needs the admin role");
      }
      return ctx.db.transaction().execute(async (trx) => {
        if (price !== undefined) await trx.updateTable("products").set({ price }).where("id", "=", id).execute();
        const product = await trx.selectFrom("products").select(columns).where("id", "=", id).executeTakeFirst();
        if (product === undefined) throw catalog.error("PRODUCT_NOT_FOUND", `product ${id} does not exist`, { id });
        // The catalog keeps no stock: the event carries it to inventory, which owns it.
        await ctx.emit(catalog.ProductUpdated, { ...product, ...(stock !== undefined ? { stock } : {}) });
        return product;
      });
    },

    async bestsellers({ limit }, ctx) {
      // The read model joined with the catalog's own product names: no call to the orders service.
      const items = await ctx.db
        .selectFrom("product_sales as s")
        .innerJoin("products as p", "p.id", "s.product_id")
        .select(["p.id", "p.name", "s.units", "s.orders"])
        .orderBy("s.units", "desc")
        .orderBy("p.id")
        .limit(limit)
        .execute();
      return { items: items.map((i) => ({ ...i, units: Number(i.units), orders: Number(i.orders) })) };
    },
  },
};

/** The catalog at 1.x: every action but `getProductV2`, for running both versions side by side. */
export const catalogServiceV1 = defineService(catalogV1, v1Options);

export const catalogService = defineService(catalog, {
  ...v1Options,
  actions: {
    ...v1Options.actions,
    async getProductV2({ id }, ctx) {
      return toV2(await v1Options.actions.getProduct({ id }, ctx));
    },
  },
});

function toV2({ id, name, description, price, currency }: Product): ProductV2 {
  return { id, name, description, price: { amountCents: price, currency } };
}

async function seed(db: Kysely<CatalogTables>, products: Product[]): Promise<void> {
  const now = new Date().toISOString();
  await db
    .insertInto("products")
    .values(products.map((p) => ({ ...p, created_at: now })))
    .execute();
}

// Cursors are opaque to clients: base64url of the last id seen, so the encoding can change later.
function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ after: id })).toString("base64url");
}

function decodeCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof value.after === "string") return value.after;
  } catch {
    // fall through to the error below
  }
  throw catalog.error("INVALID_CURSOR", "cursor is not one this service issued", { cursor });
}
