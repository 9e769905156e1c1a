/** @module The event journal's tables: events, remembered groups, pending entries, dead letters. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import type Database from "better-sqlite3";

/** `PRAGMA user_version` of the schema below; a journal written by a newer schema is refused. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
-- Every appended event. seq never repeats (AUTOINCREMENT), so a pending entry cannot be confused with
-- a pruned event's; msg_id is the deduplication key (the event id, or a retry's own id).
create table if not exists flotilla_events (
  seq integer primary key autoincrement,
  msg_id text not null unique,
  type text not null,
  retry_group text,
  stored_at integer not null,
  envelope text not null
);
create index if not exists flotilla_events_type on flotilla_events (type, seq);
create index if not exists flotilla_events_stored_at on flotilla_events (stored_at);

-- Durable groups and the types they receive, kept while none of their members runs.
create table if not exists flotilla_groups (
  type text not null,
  name text not null,
  primary key (type, name)
) without rowid;

-- What each durable group has yet to handle, with the failed deliveries so far.
create table if not exists flotilla_pending (
  group_name text not null,
  seq integer not null,
  failures integer not null default 0,
  primary key (group_name, seq)
) without rowid;
create index if not exists flotilla_pending_seq on flotilla_pending (seq);

-- Events a group gave up on. The envelope is copied, so pruning events never loses a letter.
create table if not exists flotilla_dead_letters (
  id integer primary key autoincrement,
  group_name text not null,
  envelope text not null,
  attempts integer not null,
  error text not null,
  failed_at text not null
);
create index if not exists flotilla_dead_letters_group on flotilla_dead_letters (group_name, id);
`;

/** Creates the tables if missing, in one transaction, so two processes opening a new file agree. */
export function ensureSchema(db: Database.Database, file: string): void {
  db.transaction(() => {
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        `event journal ${file} has schema version ${version}; this Flotilla knows up to ${SCHEMA_VERSION}`,
      );
    }
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
