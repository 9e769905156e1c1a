/** @module Limit tiers: who gets which limit, and the defaults. */
import type { Identity } from "@flotilla/core";
import type { RateLimit } from "./gcra.js";

export type TierName = "anonymous" | "standard" | "premium" | "admin";
/** The four built-in tiers, plus any named by an identity's `tier`. */
export type TierTable = Record<TierName, RateLimit> & Record<string, RateLimit>;

/**
 * Every tier admits a burst of well over 100 requests (a page load, a sync after a reconnect) and
 * refuses most of 600 sent at once (a scraper or a runaway loop); they differ in the sustained rate.
 * Anonymous callers are limited per address, which NAT shares, so their burst is the one kept modest
 * rather than their rate cut further. Premium and admin get a higher rate but the same capped burst:
 * a burst is what hurts the backends, whoever sends it.
 */
export const DEFAULT_TIERS: Readonly<TierTable> = Object.freeze({
  anonymous: Object.freeze({ limit: 120, windowSec: 60 }),
  standard: Object.freeze({ limit: 300, windowSec: 60 }),
  premium: Object.freeze({ limit: 1200, windowSec: 60, burst: 500 }),
  admin: Object.freeze({ limit: 3000, windowSec: 60, burst: 500 }),
});

/**
 * Admins first (an admin is never held to a customer's tier), then a tier the identity names and the
 * table knows, then a "premium" role, then any signed-in caller as standard.
 */
export function tierOf(caller: Identity | undefined, tiers: TierTable): string {
  if (caller === undefined) return "anonymous";
  if (caller.roles.includes("admin")) return "admin";
  if (caller.tier !== undefined && caller.tier !== "anonymous" && Object.hasOwn(tiers, caller.tier)) return caller.tier;
  if (caller.roles.includes("premium")) return "premium";
  return "standard";
}
