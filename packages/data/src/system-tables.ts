/** @module Flotilla's own tables in every service database: outbox, relay lease, inbox, projection state, sagas, idempotency keys. */
import type { OutboundMessage } from "@flotilla/core";
import type { Generated, Kysely, Migration } from "kysely";
import { type IdempotencyTable, idempotencyMigration } from "./idempotency/idempotency-table.js";

export interface OutboxTable {
  /** Insertion order: the relay publishes by it. */
  seq: Generated<number>;
  /** What the message is (`OutboundMessage["kind"]`): `event` or `command`; the relay sends each kind its way. */
  kind: OutboundMessage["kind"];
  /** The message's id (an event's or a command's): unique, and the broker's deduplication key. */
  event_id: string;
  /** An event's type, or a command's action (`service.action`). */
  type: string;
  /** The whole envelope as JSON, headers (trace context) included. */
  envelope: string;
  /** Epoch ms, for the backlog's age. */
  created_at: number;
  /** Epoch ms before which the relay leaves it (a command's retry backoff); 0: at once. */
  available_at: Generated<number>;
}

export interface OutboxLeaseTable {
  name: string;
  holder: string | null;
  /** Epoch ms after which another instance may take the lease over. */
  expires_at: number;
}

export interface InboxTable {
  subscription: string;
  event_id: string;
  handled_at: number;
}

export interface ProjectionsTable {
  name: string;
  /** `live`, or `rebuilding` while a replay runs (live events are parked meanwhile). */
  status: string;
  updated_at: number;
  /** Events applied by the last finished rebuild. */
  rebuilt_events: number | null;
}

export interface ParkedTable {
  seq: Generated<number>;
  projection: string;
  subscription: string;
  event_id: string;
  envelope: string;
}

export interface SagasTable {
  id: string;
  /** The saga definition's name and version: an instance finishes on the version it started with. */
  type: string;
  version: number;
  /** `running`, `compensating`, `completed`, `compensated` or `failed` (a compensation that cannot succeed). */
  status: string;
  /** Index of the step whose command is in flight (forward or compensation). */
  step: number;
  /** Attempt of that step's command, from 1. */
  attempt: number;
  /** The input and every finished step's output, as JSON: what later steps are built from. */
  state: string;
  /** The failure that turned the saga back (JSON `{step, code, message}`), if any. */
  failure: string | null;
  /** Bumped by every change: two outcomes settled at once cannot both apply. */
  rev: number;
  started_at: number;
  updated_at: number;
  /** Epoch ms after which a running saga compensates instead of taking its next step. */
  deadline_at: number;
  finished_at: number | null;
}

export interface SagaJournalTable {
  seq: Generated<number>;
  saga_id: string;
  at: number;
  /** `started`, `step-sent`, `step-succeeded`, `step-failed`, `retry-scheduled`, `compensating`, … */
  entry: string;
  step: string | null;
  attempt: number | null;
  /** JSON: the error of a failure, the delay of a retry, … */
  detail: string | null;
}

export interface SystemTables {
  flotilla_outbox: OutboxTable;
  flotilla_outbox_lease: OutboxLeaseTable;
  flotilla_inbox: InboxTable;
  flotilla_projections: ProjectionsTable;
  flotilla_projection_parked: ParkedTable;
  flotilla_sagas: SagasTable;
  flotilla_saga_journal: SagaJournalTable;
  flotilla_idempotency: IdempotencyTable;
}

/** The migration history of these tables is kept apart from the service's own. */
export const SYSTEM_MIGRATION_TABLE = "flotilla_system_migration";
export const SYSTEM_MIGRATION_LOCK_TABLE = "flotilla_system_migration_lock";

/** Migrations for an engine (`sqlite` or `postgres`): only auto-increment keys differ between them. */
export function systemMigrations(engine: string): Record<string, Migration> {
  const serial = engine === "postgres" ? "bigserial" : "integer";
  const autoIncrement = engine !== "postgres";
  return {
    "001_outbox_inbox_projections": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("flotilla_outbox")
          .addColumn("seq", serial, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn("event_id", "text", (c) => c.notNull().unique())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("envelope", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("flotilla_outbox_lease")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("holder", "text")
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .execute();
        await (db as Kysely<SystemTables>)
          .insertInto("flotilla_outbox_lease")
          .values({ name: "relay", holder: null, expires_at: 0 })
          .execute();
        await db.schema
          .createTable("flotilla_inbox")
          .addColumn("subscription", "text", (c) => c.notNull())
          .addColumn("event_id", "text", (c) => c.notNull())
          .addColumn("handled_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("flotilla_inbox_pk", ["subscription", "event_id"])
          .execute();
        await db.schema.createIndex("flotilla_inbox_handled_at").on("flotilla_inbox").column("handled_at").execute();
        await db.schema
          .createTable("flotilla_projections")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addColumn("rebuilt_events", "bigint")
          .execute();
        await db.schema
          .createTable("flotilla_projection_parked")
          .addColumn("seq", serial, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn("projection", "text", (c) => c.notNull())
          .addColumn("subscription", "text", (c) => c.notNull())
          .addColumn("event_id", "text", (c) => c.notNull())
          .addColumn("envelope", "text", (c) => c.notNull())
          .addUniqueConstraint("flotilla_projection_parked_event", ["projection", "subscription", "event_id"])
          .execute();
      },
    },
    "002_outbox_kind": {
      // Outbound messages of more than one kind (events; a saga's commands next) share one outbox.
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("flotilla_outbox")
          .addColumn("kind", "text", (c) => c.notNull().defaultTo("event"))
          .execute();
      },
    },
    "003_command_delays_and_sagas": {
      // A saga's commands share the outbox (a retry waits there for its backoff); its state and journal
      // live beside them, so one transaction records a decision and the command that carries it out.
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("flotilla_outbox")
          .addColumn("available_at", "bigint", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createTable("flotilla_sagas")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("version", "integer", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("step", "integer", (c) => c.notNull())
          .addColumn("attempt", "integer", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("failure", "text")
          .addColumn("rev", "integer", (c) => c.notNull())
          .addColumn("started_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addColumn("deadline_at", "bigint", (c) => c.notNull())
          .addColumn("finished_at", "bigint")
          .execute();
        await db.schema
          .createIndex("flotilla_sagas_status")
          .on("flotilla_sagas")
          .columns(["status", "updated_at"])
          .execute();
        await db.schema
          .createTable("flotilla_saga_journal")
          .addColumn("seq", serial, (c) => (autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn("saga_id", "text", (c) => c.notNull())
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("entry", "text", (c) => c.notNull())
          .addColumn("step", "text")
          .addColumn("attempt", "integer")
          .addColumn("detail", "text")
          .execute();
        await db.schema
          .createIndex("flotilla_saga_journal_saga")
          .on("flotilla_saga_journal")
          .columns(["saga_id", "seq"])
          .execute();
      },
    },
    "004_idempotency_keys": idempotencyMigration,
  };
}
