/** @module Whole-number settings of the shop's services from the environment, checked when read. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `env[name]` as a whole number in `min..max`, or `fallback` when unset or blank. A value that is set
 * but unusable fails with FLOTILLA_CONFIG instead of falling back: a typo should stop a start, not
 * silently run the shop with a default nobody chose.
 */
export function intFromEnv(
  name: string,
  fallback: number,
  range: { min: number; max: number },
  env: Env = process.env,
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `${name} must be a whole number in ${range.min}..${range.max}, got "${raw}"`,
    );
  }
  return value;
}
