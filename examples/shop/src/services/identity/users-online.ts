/** @module The `users-online` projection: who holds an unexpired token and has not signed out, from identity's events. */
import { defineProjection } from "@flotilla/data";
import type { Kysely } from "kysely";
import { identity } from "./contract.js";
import type { IdentityTables } from "./schema.js";

type Db = Kysely<IdentityTables>;

/**
 * The two handlers are separate subscriptions, so a sign-out may be applied before the sign-in it
 * follows. Each row remembers the emission time of the last event applied and older events are
 * dropped; a sign-out leaves a row whose `until` is the sign-out time (offline) rather than deleting it,
 * so a sign-in arriving after it stays dropped.
 */
export const usersOnlineProjection = defineProjection<
  IdentityTables,
  { signedIn: typeof identity.UserSignedIn; signedOut: typeof identity.UserSignedOut }
>({
  name: "users-online",
  handlers: {
    signedIn: {
      event: identity.UserSignedIn,
      async handle({ userId, expiresAt }, ctx, meta) {
        const at = iso(meta.envelope.time);
        const row = await find(ctx.db, userId);
        if (row !== undefined && row.event_time > at) return;
        const expires = iso(expiresAt);
        const online = row !== undefined && row.until > at;
        await upsert(ctx.db, {
          user_id: userId,
          // Still signed in from an earlier token: the session continues, as long as the later expiry.
          since: online ? row.since : at,
          until: online && row.until > expires ? row.until : expires,
          event_time: at,
        });
      },
    },
    signedOut: {
      event: identity.UserSignedOut,
      async handle({ userId }, ctx, meta) {
        const at = iso(meta.envelope.time);
        const row = await find(ctx.db, userId);
        if (row !== undefined && row.event_time > at) return;
        await upsert(ctx.db, { user_id: userId, since: row?.since ?? at, until: at, event_time: at });
      },
    },
  },
  reset: async (db) => {
    await db.deleteFrom("users_online").execute();
  },
});

/** Users online at `now`: whose `until` lies ahead (expiry is applied on read, no sweeper needed). */
export function onlineAt(db: Db, now: Date) {
  return db
    .selectFrom("users_online")
    .select(["user_id", "since", "until"])
    .where("until", ">", now.toISOString())
    .orderBy("since")
    .orderBy("user_id")
    .execute();
}

function find(db: Db, userId: string) {
  return db.selectFrom("users_online").selectAll().where("user_id", "=", userId).executeTakeFirst();
}

async function upsert(db: Db, row: IdentityTables["users_online"]): Promise<void> {
  const { user_id: _, ...changes } = row;
  await db
    .insertInto("users_online")
    .values(row)
    .onConflict((oc) => oc.column("user_id").doUpdateSet(changes))
    .execute();
}

// One textual form (toISOString) for every stored time, so the string comparisons above order them right.
function iso(time: string): string {
  return new Date(time).toISOString();
}
