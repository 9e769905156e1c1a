/** @module Object-level access in one line: an owner's things are theirs, and an admin's to see. */
import type { Identity } from "./context.js";

/**
 * Whether `caller` may act on something `owner` owns: the owner themself, or a caller holding one of
 * `roles` (admin by default). Nobody owns a thing whose owner is null or undefined, so no caller
 * matches it as owner. Services answer "not found" when this is false, so ids cannot be probed:
 * `if (row === undefined || !canAccess(ctx.caller, row.owner_id)) throw notFound(id);`
 */
export function canAccess(
  caller: Identity | undefined,
  owner: string | null | undefined,
  roles: readonly string[] = ["admin"],
): boolean {
  if (caller === undefined) return false;
  if (owner !== null && owner !== undefined && caller.subject === owner) return true;
  return caller.roles.some((role) => roles.includes(role));
}
