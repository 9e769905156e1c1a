/** @module The notifications contract: messages for each user, from order events; emails go to a file. */
import { action, defineContract, event } from "@flotilla/core";
import { z } from "zod";

export const Notification = z.object({
  id: z.string(),
  /** What it is about: `order.confirmed`, `order.shipped`, `welcome`, … */
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  /** The order it concerns, if any. */
  orderId: z.string().optional(),
  createdAt: z.iso.datetime(),
  read: z.boolean(),
});

export const notifications = defineContract({
  service: "notifications",
  version: "1.0.0",
  actions: {
    listNotifications: action({
      description: "The caller's notifications, newest first",
      input: z.object({
        limit: z.coerce.number().int().min(1).max(100).default(20),
        cursor: z.string().max(200).optional(),
      }),
      output: z.object({ items: z.array(Notification), nextCursor: z.string().nullable() }),
      idempotent: true,
    }),
    markRead: action({
      description: "Marks one of the caller's notifications read",
      input: z.object({ id: z.string().min(1).max(100) }),
      output: z.object({ read: z.literal(true) }),
      idempotent: true,
    }),
  },
  events: {
    /** `userId` names who may see it: live push routes it to that user only. */
    NotificationCreated: event({
      schema: z.object({ userId: z.string(), notification: Notification }),
      audience: (created) => created.userId,
    }),
  },
  errors: {
    NOTIFICATION_NOT_FOUND: "NOT_FOUND",
    SIGN_IN_REQUIRED: "UNAUTHENTICATED",
    INVALID_CURSOR: "INVALID_ARGUMENT",
  },
});
