/**
 * @module The sink of a service with a database: `ctx.emit` ends here, writing the message to the
 * service's outbox in the caller's transaction; the relay publishes it once that commits.
 */
import { FlotillaCodes, FlotillaError, type OutboundMessage, type OutboundSink } from "@flotilla/core";
import type { CompiledQuery, Kysely } from "kysely";
import { sql } from "kysely";
import type { ServiceDatabase } from "../service-database.js";
import type { SystemTables } from "../system-tables.js";

export interface OutboxSinkOptions {
  /** Wakes this instance's relay once the message is committed. */
  wake(): void;
  /** Wakes it at an epoch ms instead, for a message held back until then (a command's retry). */
  wakeAt?(at: number): void;
  /** PostgreSQL: the NOTIFY channel that wakes the relay of whichever instance holds the lease. */
  notifyChannel?: string;
  /** True while this instance's own relay holds the lease: waking it locally is enough, no NOTIFY. */
  relaysHere?(): boolean;
  /** Largest message accepted, as JSON bytes (default 1 MiB minus headroom for headers, NATS's default limit). */
  maxMessageBytes?: number;
}

const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 - 8 * 1024;

/**
 * Inside a transaction (`ctx.db.transaction().execute(…)`, or an exactly-once event handler) the
 * message is written in that transaction and exists only if it commits; outside one it is written on
 * its own. Either way `send` resolves once the message is durable in the service's database.
 */
export function outboxSink(db: ServiceDatabase<SystemTables>, options: OutboxSinkOptions): OutboundSink {
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const channel = options.notifyChannel;
  const relaysHere = options.relaysHere ?? (() => false);
  const insert = outboxInsert(db);
  return {
    name: "outbox",
    async send(message: OutboundMessage): Promise<void> {
      const { envelope } = message;
      const type = message.kind === "event" ? message.envelope.type : message.envelope.action;
      const json = JSON.stringify(envelope);
      // A UTF-16 unit takes at most 3 bytes in UTF-8: most messages need no byte count at all.
      if (json.length * 3 > maxBytes && Buffer.byteLength(json) > maxBytes) {
        throw FlotillaError.of(FlotillaCodes.PAYLOAD_TOO_LARGE, `${type} is larger than ${maxBytes} bytes as JSON`);
      }
      const now = Date.now();
      const availableAt = message.kind === "command" && message.notBefore !== undefined ? message.notBefore : 0;
      const query = insert([message.kind, envelope.id, type, json, now, availableAt]);
      // Held back: the relay of this instance wakes for it then; another holder of the lease finds it by polling.
      const later = availableAt > now && options.wakeAt !== undefined;
      const wake = later ? () => options.wakeAt?.(availableAt) : options.wake;
      const work = db.current();
      if (work === undefined) {
        await db.executeQuery(query);
        if (!later && channel !== undefined && !relaysHere()) await notify(db, channel);
        wake();
        return;
      }
      const trx = work.trx as unknown as Kysely<SystemTables>;
      await trx.executeQuery(query);
      if (later) {
        work.afterCommit.push(wake);
      } else if (!work.notified) {
        work.notified = true;
        work.afterCommit.push(options.wake);
        // Delivered by PostgreSQL when (and only if) the transaction commits.
        if (channel !== undefined && !relaysHere()) await notify(trx, channel);
      }
    },
  };
}

type OutboxValues = [
  kind: OutboundMessage["kind"],
  eventId: string,
  type: string,
  envelope: string,
  createdAt: number,
  availableAt: number,
];

/** The outbox insert, compiled once by the database's own dialect and then only given new values. */
function outboxInsert(db: Kysely<SystemTables>): (values: OutboxValues) => CompiledQuery {
  let template: CompiledQuery | undefined;
  return (values) => {
    if (template === undefined) {
      const [kind, event_id, type, envelope, created_at, available_at] = values;
      template = db
        .insertInto("flotilla_outbox")
        .values({ kind, event_id, type, envelope, created_at, available_at })
        .compile();
      if (template.parameters.length !== values.length || template.parameters.some((p, i) => p !== values[i])) {
        throw new Error("the outbox insert compiled its parameters in an unexpected order");
      }
    }
    return { ...template, parameters: values };
  };
}

function notify(db: Kysely<SystemTables>, channel: string): Promise<unknown> {
  return sql`select pg_notify(${channel}, '')`.execute(db);
}
