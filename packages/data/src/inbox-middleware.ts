/** @module Exactly-once event handling: the inbox record and the handler's effect commit together. */
import type { InboundEvent, Middleware } from "@flotilla/core";
import type { Tracer } from "@opentelemetry/api";
import { joinable, type ServiceDatabase } from "./service-database.js";
import type { SystemTables } from "./system-tables.js";
import { inTransactionSpan } from "./transaction-spans.js";

/**
 * For subscriptions with `exactlyOnce` (the default): the handler runs in one transaction that first
 * records `(subscription, event id)` in the inbox. An event recorded before is acknowledged without
 * running the handler; a handler that fails rolls its effect and the record back together, so the
 * redelivery runs it again. The handler's `ctx.db` is that transaction.
 */
export function inboxMiddleware(
  db: ServiceDatabase<SystemTables>,
  spans?: { tracer: Tracer; attributes: Record<string, string> },
): Middleware {
  return {
    name: "inbox",
    event(inv: InboundEvent, next: () => Promise<void>): Promise<void> {
      if (!inv.exactlyOnce) return next();
      if (spans === undefined) return handleOnce(db, inv, next);
      return inTransactionSpan(spans.tracer, inv.ctx, spans.attributes, () => handleOnce(db, inv, next));
    },
  };
}

function handleOnce(db: ServiceDatabase<SystemTables>, inv: InboundEvent, next: () => Promise<void>): Promise<void> {
  return db.run(async (trx) => {
    const recorded = await trx
      .insertInto("flotilla_inbox")
      .values({ subscription: inv.subscription, event_id: inv.envelope.id, handled_at: Date.now() })
      .onConflict((oc) => oc.columns(["subscription", "event_id"]).doNothing())
      .executeTakeFirst();
    if (Number(recorded.numInsertedOrUpdatedRows ?? 0n) === 0) {
      inv.ctx.log.debug({ event: inv.envelope.id, subscription: inv.subscription }, "event handled before; skipped");
      return;
    }
    inv.ctx.db = joinable(trx);
    await next();
  });
}
