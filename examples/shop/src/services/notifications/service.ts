/**
 * @module The notifications service: a message per user for their welcome and their orders' status
 * changes, from identity's and orders' events, each also emailed (to a file) when the address is known.
 */
import { defineService, type EventDataOf, type EventMeta, type ServiceDefinition } from "@flotilla/core";
import { database } from "@flotilla/data";
import { identity } from "../identity/contract.js";
import { orders } from "../orders/contract.js";
import { notifications } from "./contract.js";
import { EmailWriter, emailFileFrom } from "./email-file.js";
import { orderStatus, welcome } from "./messages.js";
import { markRead, userNotifications } from "./notification-reads.js";
import { createNotification, type NotificationsContext } from "./notify.js";
import { recipientOf, rememberRecipient } from "./recipients.js";
import { type NotificationsTables, notificationsMigrations } from "./schema.js";

export interface NotificationsOptions {
  /** Where emails are appended (default: SHOP_EMAIL_FILE, else `<FLOTILLA_DATA_DIR or .flotilla/data>/emails.jsonl`). */
  emailFile?: string;
  /** Pause between two passes of the email writer, in ms (1 s). */
  emailEveryMs?: number;
}

/** The service with its options; `notificationsService` is this with the defaults and the environment. */
export function createNotificationsService(options: NotificationsOptions = {}): ServiceDefinition {
  const file = options.emailFile ?? emailFileFrom();
  // Per instance, so two hosts in one process (tests) each write from their own database.
  const writers = new Map<string, EmailWriter>();

  return defineService(notifications, {
    // Calls no other service: a call to one is refused, and its NATS credentials allow none (docs/security.md).
    calls: [],
    database: database<NotificationsTables>({ migrations: notificationsMigrations }),

    async start(ctx) {
      const writer = new EmailWriter(ctx.db, { file, everyMs: options.emailEveryMs ?? 1_000, log: ctx.log });
      writers.set(ctx.instance ?? "", writer);
      writer.start();
      ctx.log.info({ file }, "writing emails to a file");
    },

    async stop(ctx) {
      const writer = writers.get(ctx.instance ?? "");
      writers.delete(ctx.instance ?? "");
      await writer?.stop();
    },

    subscriptions: {
      userRegistered: {
        event: identity.UserRegistered,
        async handle({ userId, name, email }, ctx, meta) {
          const at = eventTime(meta);
          await rememberRecipient(ctx.db, userId, { name, email }, at);
          // The copy, not the event: a later UserUpdated applied first has the newer name and address.
          const recipient = (await recipientOf(ctx.db, userId)) ?? { name, email };
          await createNotification(ctx, {
            ...welcome(recipient.name, recipient.email),
            userId,
            dedupeKey: `welcome:${userId}`,
            at,
            email: recipient.email,
          });
        },
      },
      userUpdated: {
        event: identity.UserUpdated,
        async handle({ id, name, email }, ctx, meta) {
          await rememberRecipient(ctx.db, id, { name, email }, eventTime(meta));
        },
      },
      orderStatusChanged: {
        event: orders.OrderStatusChanged,
        async handle(change, ctx, meta) {
          await notifyOrderStatus(ctx, change, eventTime(meta));
        },
      },
    },

    actions: {
      async listNotifications({ limit, cursor }, ctx) {
        if (ctx.caller === undefined) {
          throw notifications.error("SIGN_IN_REQUIRED", "listing notifications needs a signed-in caller");
        }
        return userNotifications(ctx.db, ctx.caller.subject, limit, cursor);
      },

      async markRead({ id }, ctx) {
        if (ctx.caller === undefined) {
          throw notifications.error("SIGN_IN_REQUIRED", "marking a notification read needs a signed-in caller");
        }
        await markRead(ctx.db, ctx.caller.subject, id);
        return { read: true as const };
      },
    },
  });
}

export const notificationsService = createNotificationsService();

async function notifyOrderStatus(
  ctx: NotificationsContext,
  change: EventDataOf<typeof orders.OrderStatusChanged>,
  at: string,
): Promise<void> {
  // Before the customer's UserRegistered arrived (another subscription) the copy is missing: the
  // notification greets no one by name and no email goes out, rather than waiting for it.
  const recipient = await recipientOf(ctx.db, change.customerId);
  const message = orderStatus(change, recipient?.name);
  if (message === undefined) return;
  await createNotification(ctx, {
    ...message,
    userId: change.customerId,
    // An order reaches each status once: a repeated event (a new id, so the inbox lets it through) adds nothing.
    dedupeKey: `${message.kind}:${change.orderId}`,
    orderId: change.orderId,
    at,
    email: recipient?.email,
  });
}

/** One textual form (toISOString) for every stored time, so comparing the strings compares the times. */
function eventTime(meta: EventMeta): string {
  return new Date(meta.envelope.time).toISOString();
}
