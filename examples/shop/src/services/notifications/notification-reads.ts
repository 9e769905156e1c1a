/** @module Reading a user's notifications, newest first in cursor pages, and marking one read. */
import type { Kysely } from "kysely";
import type { z } from "zod";
import { afterCursor, pageOf } from "../newest-first.js";
import { type Notification, notifications } from "./contract.js";
import type { NotificationsTables } from "./schema.js";

type Db = Kysely<NotificationsTables>;
type Row = NotificationsTables["notifications"];

/** One page of the user's notifications, newest first; the cursor is the last (createdAt, id) seen. */
export async function userNotifications(
  db: Db,
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: z.input<typeof Notification>[]; nextCursor: string | null }> {
  const rows = await db
    .selectFrom("notifications")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .where(
      afterCursor(cursor, () =>
        notifications.error("INVALID_CURSOR", "cursor is not one this service issued", { cursor }),
      ),
    )
    .limit(limit + 1)
    .execute();
  const { page, nextCursor } = pageOf(rows, limit);
  return { items: page.map(toNotification), nextCursor };
}

/**
 * Marks it read (once: a second call keeps the first time). Someone else's notification is reported
 * as missing, so ids cannot be probed for existence.
 */
export async function markRead(db: Db, userId: string, id: string): Promise<void> {
  const row = await db
    .selectFrom("notifications")
    .select(["read_at"])
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (row === undefined)
    throw notifications.error("NOTIFICATION_NOT_FOUND", `notification ${id} does not exist`, { id });
  if (row.read_at !== null) return;
  await db
    .updateTable("notifications")
    .set({ read_at: new Date().toISOString() })
    .where("id", "=", id)
    .where("read_at", "is", null)
    .execute();
}

function toNotification(row: Row): z.input<typeof Notification> {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    ...(row.order_id !== null ? { orderId: row.order_id } : {}),
    createdAt: row.created_at,
    read: row.read_at !== null,
  };
}
