/**
 * @module Pages of a table's rows newest first, by an opaque cursor naming the last (createdAt, id)
 * seen: a keyset, so a page is as fast at the thousandth as at the first and rows added meanwhile
 * neither repeat nor vanish.
 */
import { type RawBuilder, type SqlBool, sql } from "kysely";

interface Position {
  readonly createdAt: string;
  readonly id: string;
}

/** Rows strictly after the cursor's position in (created_at desc, id desc) order; every row when none. */
export function afterCursor(cursor: string | undefined, invalid: () => Error): RawBuilder<SqlBool> {
  if (cursor === undefined) return sql<SqlBool>`1 = 1`;
  const after = decode(cursor, invalid);
  return sql<SqlBool>`(created_at < ${after.createdAt} or (created_at = ${after.createdAt} and id < ${after.id}))`;
}

/** The page out of `limit + 1` rows read, and the cursor of the next page (null when this is the last). */
export function pageOf<R extends { created_at: string; id: string }>(
  rows: readonly R[],
  limit: number,
): { page: R[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encode(last.created_at, last.id) : null };
}

// Opaque to clients (base64url JSON), so the encoding can change later.
function encode(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify({ createdAt, id })).toString("base64url");
}

function decode(cursor: string, invalid: () => Error): Position {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Record<string, unknown>;
    if (typeof value.createdAt === "string" && typeof value.id === "string") {
      return { createdAt: value.createdAt, id: value.id };
    }
  } catch {
    // fall through to the error below
  }
  throw invalid();
}
