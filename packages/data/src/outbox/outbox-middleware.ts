/** @module `ctx.emit` in a service with a database: the event goes into the outbox, in the caller's transaction. */
import { FlotillaCodes, FlotillaError, type Middleware, type OutboundEvent } from "@flotilla/core";
import { type Kysely, sql } from "kysely";
import type { ServiceDatabase } from "../service-database.js";
import type { SystemTables } from "../system-tables.js";

export interface OutboxWriterOptions {
  /** Wakes this instance's relay once the event is committed. */
  wake(): void;
  /** PostgreSQL: the NOTIFY channel that wakes the relay of whichever instance holds the lease. */
  notifyChannel?: string;
  /** True while this instance's own relay holds the lease: waking it locally is enough, no NOTIFY. */
  relaysHere?(): boolean;
  /** Largest event accepted, as JSON bytes (default 1 MiB minus headroom for headers, NATS's default limit). */
  maxEventBytes?: number;
}

const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024 - 8 * 1024;

/**
 * Inside a transaction (`ctx.db.transaction().execute(…)`, or an exactly-once event handler) the event
 * is written in that transaction and exists only if it commits; outside one it is written on its own.
 * Either way `emit` resolves once the event is durable in the service's database, and the relay
 * publishes it after the commit. The transport's own publish (the next step) is never called here.
 */
export function outboxMiddleware(db: ServiceDatabase<SystemTables>, options: OutboxWriterOptions): Middleware {
  const maxBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const channel = options.notifyChannel;
  const relaysHere = options.relaysHere ?? (() => false);
  return {
    name: "outbox",
    async emit(event: OutboundEvent): Promise<void> {
      const envelope = JSON.stringify(event.envelope);
      // A UTF-16 unit takes at most 3 bytes in UTF-8: most events need no byte count at all.
      if (envelope.length * 3 > maxBytes && Buffer.byteLength(envelope) > maxBytes) {
        throw FlotillaError.of(
          FlotillaCodes.PAYLOAD_TOO_LARGE,
          `event ${event.envelope.type} is larger than ${maxBytes} bytes as JSON`,
        );
      }
      const row = {
        event_id: event.envelope.id,
        type: event.envelope.type,
        envelope,
        created_at: Date.now(),
      };
      const work = db.current();
      if (work === undefined) {
        await db.insertInto("flotilla_outbox").values(row).execute();
        if (channel !== undefined && !relaysHere()) await notify(db, channel);
        options.wake();
        return;
      }
      const trx = work.trx as unknown as Kysely<SystemTables>;
      await trx.insertInto("flotilla_outbox").values(row).execute();
      if (!work.notified) {
        work.notified = true;
        work.afterCommit.push(options.wake);
        // Delivered by PostgreSQL when (and only if) the transaction commits.
        if (channel !== undefined && !relaysHere()) await notify(trx, channel);
      }
    },
  };
}

function notify(db: Kysely<SystemTables>, channel: string): Promise<unknown> {
  return sql`select pg_notify(${channel}, '')`.execute(db);
}
