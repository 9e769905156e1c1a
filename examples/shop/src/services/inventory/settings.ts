/** @module The inventory's settings: given to `createInventoryService`, else from the environment. */
import { intFromEnv } from "../env-int.js";
import { initialStockFromEnv } from "./seed.js";

export interface InventoryOptions {
  /** Units of each demo product seeded on first start (default: SHOP_INITIAL_STOCK, else 1000). */
  initialStock?: number;
  /** A reservation's hold when reserve names no ttlMs (default: SHOP_RESERVATION_TTL_MS, else 15 minutes). */
  reservationTtlMs?: number;
  /** How often each instance sweeps expired reservations (default: SHOP_RESERVATION_SWEEP_MS, else 1000); 0: never. */
  sweepMs?: number;
}

export interface InventorySettings {
  initialStock: number;
  reservationTtlMs: number;
  sweepMs: number;
}

const MINUTE_MS = 60_000;

/** Read when an instance starts (so a test can set the environment first), and checked then. */
export function inventorySettings(options: InventoryOptions, env = process.env): InventorySettings {
  return {
    initialStock: options.initialStock ?? initialStockFromEnv(env),
    // The contract's own bounds for ttlMs.
    reservationTtlMs:
      options.reservationTtlMs ??
      intFromEnv("SHOP_RESERVATION_TTL_MS", 15 * MINUTE_MS, { min: 1_000, max: 86_400_000 }, env),
    sweepMs: options.sweepMs ?? intFromEnv("SHOP_RESERVATION_SWEEP_MS", 1_000, { min: 0, max: 3_600_000 }, env),
  };
}
