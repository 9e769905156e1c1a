/** @module Creating a notification: stored, its email queued and NotificationCreated emitted, in one transaction. */
import { randomUUID } from "node:crypto";
import type { Context } from "@flotilla/core";
import type { Kysely } from "kysely";
import type { z } from "zod";
import { type Notification, notifications } from "./contract.js";
import type { Message } from "./messages.js";
import type { NotificationsTables } from "./schema.js";

export type NotificationsContext = Context<Kysely<NotificationsTables>>;

export interface Draft extends Message {
  userId: string;
  /** Makes the notification once per thing announced, however often its event comes. */
  dedupeKey: string;
  orderId?: string;
  /** When it happened: the event's emission time. */
  at: string;
  /** The address to email, if one is known; without it the notification is made all the same. */
  email: string | undefined;
}

/**
 * The notification, its email (to the outbox table, written to the file later) and the event (to the
 * transactional outbox) commit together or not at all. Returns false when the dedupe key was taken:
 * nothing more is made and nothing emitted.
 */
export async function createNotification(ctx: NotificationsContext, draft: Draft): Promise<boolean> {
  const id = randomUUID();
  return ctx.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto("notifications")
      .values({
        id,
        user_id: draft.userId,
        kind: draft.kind,
        title: draft.title,
        body: draft.body,
        order_id: draft.orderId ?? null,
        dedupe_key: draft.dedupeKey,
        created_at: draft.at,
        read_at: null,
      })
      .onConflict((oc) => oc.column("dedupe_key").doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
    if (draft.email !== undefined) {
      await trx
        .insertInto("emails")
        .values({
          id: randomUUID(),
          notification_id: id,
          recipient: draft.email,
          subject: draft.title,
          body: draft.body,
          created_at: draft.at,
          claimed_by: null,
          claimed_until: null,
          sent_at: null,
        })
        .execute();
    }
    const notification: z.input<typeof Notification> = {
      id,
      kind: draft.kind,
      title: draft.title,
      body: draft.body,
      ...(draft.orderId !== undefined ? { orderId: draft.orderId } : {}),
      createdAt: draft.at,
      read: false,
    };
    await ctx.emit(notifications.NotificationCreated, { userId: draft.userId, notification });
    return true;
  });
}
