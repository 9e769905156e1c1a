/** @module The table of idempotency keys: the first answer to each (caller, action, key), kept until it expires. */
import type { Kysely, Migration } from "kysely";

export interface IdempotencyTable {
  /** The caller's subject, or `anonymous`: keys are per caller, so two callers never share one. */
  caller: string;
  /** `service.action`. */
  action: string;
  key: string;
  /** SHA-256 of the input as canonical JSON: the same key with another input is refused, not answered. */
  request_hash: string;
  /** `ok` (answer: the output as JSON, or null for none) or `error` (answer: the error's wire form). */
  outcome: string;
  answer: string | null;
  created_at: number;
  /** Epoch ms after which the key is forgotten (the sweep deletes it; a request meeting it first replaces it). */
  expires_at: number;
}

/** System migration 004: the table, keyed by (caller, action, key), with an index for the sweep. */
export const idempotencyMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("flotilla_idempotency")
      .addColumn("caller", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("key", "text", (c) => c.notNull())
      .addColumn("request_hash", "text", (c) => c.notNull())
      .addColumn("outcome", "text", (c) => c.notNull())
      .addColumn("answer", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("flotilla_idempotency_pk", ["caller", "action", "key"])
      .execute();
    await db.schema
      .createIndex("flotilla_idempotency_expires_at")
      .on("flotilla_idempotency")
      .column("expires_at")
      .execute();
  },
};
