/** @module The stock every demo product starts with (the catalog's demo ids, copied: each service owns its data). */
import type { Kysely } from "kysely";
import { intFromEnv } from "../env-int.js";
import type { InventoryTables } from "./schema.js";

const slugs = [
  "espresso-machine",
  "burr-grinder",
  "pour-over-kettle",
  "french-press",
  "coffee-beans-ethiopia",
  "coffee-beans-colombia",
  "milk-frother",
  "ceramic-mug",
  "travel-mug",
  "tea-sampler",
  "matcha-set",
  "cold-brew-jar",
  "digital-scale",
  "paper-filters",
  "espresso-cups",
  "knock-box",
  "tamper",
  "cleaning-tablets",
  "descaler",
  "moka-pot",
  "chai-blend",
  "honey-jar",
  "biscotti",
  "gift-card",
];

/** The product ids of the catalog's demo products (examples/shop/src/services/catalog/seed.ts). */
export const demoStock: readonly string[] = slugs.map((slug) => `prod-${slug}`);

export const DEFAULT_INITIAL_STOCK = 1000;

/** Units of each demo product seeded on first start: `SHOP_INITIAL_STOCK`, else 1000. */
export function initialStockFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): number {
  return intFromEnv("SHOP_INITIAL_STOCK", DEFAULT_INITIAL_STOCK, { min: 0, max: 1_000_000 }, env);
}

/**
 * Adds the demo products that have no stock row yet, `units` each. Rows that exist are left alone, so
 * running it on every start changes nothing after the first, and instances starting together on one
 * database cannot both insert a product (the primary key settles it, without an error).
 */
export async function seedStock(db: Kysely<InventoryTables>, units: number, now = new Date()): Promise<number> {
  const updated_at = now.toISOString();
  const result = await db
    .insertInto("stock")
    .values(demoStock.map((product_id) => ({ product_id, on_hand: units, reserved: 0, updated_at })))
    .onConflict((oc) => oc.column("product_id").doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}
