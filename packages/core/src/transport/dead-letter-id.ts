/** @module Dead-letter ids: positive integers as decimal strings, on every transport. */
import { FlotillaError } from "../errors.js";

/** The letter's number; INVALID_ARGUMENT for anything that cannot be a dead-letter id. */
export function parseDeadLetterId(id: string): number {
  const n = /^[1-9][0-9]{0,15}$/.test(id) ? Number(id) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new FlotillaError("INVALID_ARGUMENT", `"${id}" is not a dead-letter id (a positive integer)`, {
      details: { id },
    });
  }
  return n;
}
