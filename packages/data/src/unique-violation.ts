/** @module Recognizes a unique-constraint violation from either engine: how services detect idempotency races. */

// PostgreSQL's SQLSTATE, and better-sqlite3's extended result codes for UNIQUE and PRIMARY KEY.
const UNIQUE_VIOLATION = new Set(["23505", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"]);

/**
 * True when `err`, or an error in its `cause` chain, says an insert or update broke a unique index or
 * primary key. On PostgreSQL the failed statement aborts its transaction: look the winner up after it
 * rolled back (or in a savepoint), not inside it.
 */
export function isUniqueViolation(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    if (UNIQUE_VIOLATION.has(String((current as { code?: unknown }).code))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
