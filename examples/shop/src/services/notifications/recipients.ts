/** @module The local copy of each user's name and email, kept from identity's events (eventually consistent). */
import type { Kysely } from "kysely";
import type { NotificationsTables } from "./schema.js";

type Db = Kysely<NotificationsTables>;

export interface Recipient {
  name: string;
  email: string;
}

/**
 * Replaces the copy unless it was taken from a later event. UserRegistered and UserUpdated are separate
 * subscriptions, and either may be redelivered late: `at` (the event's emission time) decides, in one
 * statement, so two handlers racing for one user cannot both pass a read-then-write check.
 */
export async function rememberRecipient(db: Db, userId: string, copy: Recipient, at: string): Promise<void> {
  await db
    .insertInto("recipients")
    .values({ user_id: userId, ...copy, updated_at: at })
    .onConflict((oc) =>
      oc
        .column("user_id")
        .doUpdateSet({ ...copy, updated_at: at })
        .where("recipients.updated_at", "<=", at),
    )
    .execute();
}

/** The copy, or undefined before the user's first identity event arrived (texts then greet no one by name). */
export function recipientOf(db: Db, userId: string): Promise<Recipient | undefined> {
  return db.selectFrom("recipients").select(["name", "email"]).where("user_id", "=", userId).executeTakeFirst();
}
