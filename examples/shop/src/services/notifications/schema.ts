/** @module The notifications service's own tables and their migrations. */
import type { Kysely } from "kysely";

export interface NotificationsTables {
  /** The local copy of each user's name and email, from identity's UserRegistered and UserUpdated. */
  recipients: {
    user_id: string;
    name: string;
    email: string;
    /** Emission time of the identity event the copy was last taken from, so older ones change nothing. */
    updated_at: string;
  };
  notifications: {
    id: string;
    user_id: string;
    kind: string;
    title: string;
    body: string;
    order_id: string | null;
    /** What it announces, once (`welcome:<user>`, `order.shipped:<order>`): a repeated event makes no second one. */
    dedupe_key: string;
    created_at: string;
    read_at: string | null;
  };
  /** The email outbox: written with the notification, appended to the email file later (email-file.ts). */
  emails: {
    id: string;
    notification_id: string;
    recipient: string;
    subject: string;
    body: string;
    created_at: string;
    /** The instance writing it out, until `claimed_until`: two instances never write one email at once. */
    claimed_by: string | null;
    claimed_until: string | null;
    sent_at: string | null;
  };
}

export const notificationsMigrations = {
  "001_notifications": {
    // Migrations are written against Kysely<any>: they describe history, not today's types.
    // biome-ignore lint/suspicious/noExplicitAny: see above
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("recipients")
        .addColumn("user_id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("email", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("notifications")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("title", "text", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("order_id", "text")
        .addColumn("dedupe_key", "text", (c) => c.notNull().unique())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("read_at", "text")
        .execute();
      await db.schema
        .createIndex("notifications_user_created")
        .on("notifications")
        .columns(["user_id", "created_at", "id"])
        .execute();
      await db.schema
        .createTable("emails")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("notification_id", "text", (c) => c.notNull())
        .addColumn("recipient", "text", (c) => c.notNull())
        .addColumn("subject", "text", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("claimed_by", "text")
        .addColumn("claimed_until", "text")
        .addColumn("sent_at", "text")
        .execute();
      await db.schema.createIndex("emails_unsent").on("emails").columns(["sent_at", "created_at"]).execute();
    },
  },
};
