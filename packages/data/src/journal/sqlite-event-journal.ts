/**
 * @module The event journal on SQLite: what makes the in-process transport survive a SIGKILL.
 *
 * better-sqlite3 directly rather than Kysely: the transport's journal is synchronous (a publish
 * resolves after its commit, with no await per statement), and these few fixed statements gain
 * nothing from a query builder. WAL with synchronous=NORMAL: a commit survives the process being
 * killed (the WAL is in the OS's hands); only a power loss may take the last commits with it.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  type DeadLetter,
  type EventEnvelope,
  type EventHistory,
  type EventJournal,
  FlotillaCodes,
  FlotillaError,
  Headers,
  type JournalEntry,
} from "@flotilla/core";
import Database from "better-sqlite3";
import { JournalDeadLetters } from "./journal-dead-letters.js";
import { ensureSchema } from "./journal-schema.js";

/** The journal's file name in a data directory; a service's file cannot take it (no dots in service names). */
export const EVENT_JOURNAL_FILE = "flotilla.events.sqlite";

/** `<dataDir>/flotilla.events.sqlite`: where an app keeps its event journal beside its services' files. */
export function eventJournalFile(dataDir: string): string {
  return join(dataDir, EVENT_JOURNAL_FILE);
}

/** Opens (creating it and its directory if missing) the journal for a `MemoryTransport`. */
export function sqliteEventJournal(file: string): EventJournal {
  mkdirSync(dirname(file), { recursive: true });
  return new SqliteEventJournal(file, false);
}

/**
 * Opens an existing journal from another process (an operator's `flotilla dlq` while the app runs or
 * is down); NOT_FOUND when there is none at `file`.
 */
export function openEventJournal(file: string): EventJournal {
  if (!existsSync(file)) throw new FlotillaError("NOT_FOUND", `no event journal at ${file}`, { details: { file } });
  return new SqliteEventJournal(file, true);
}

/** Sequences read per history query: bounded, so no query sorts more than this many rows. */
const HISTORY_WINDOW = 1024;

interface EntryRow {
  seq: number;
  failures: number;
  envelope: string;
}

class SqliteEventJournal implements EventJournal {
  readonly deadLetters: JournalDeadLetters;
  private readonly db: Database.Database;
  private readonly insertEvent: Database.Statement;
  private readonly fanOut: Database.Statement;
  private readonly pendFor: Database.Statement;
  private readonly appendTx: Database.Transaction<(event: EventEnvelope) => number | undefined>;
  private readonly remember: Database.Transaction<(group: string, types: readonly string[]) => void>;
  private readonly seqsOf: Database.Statement;
  private readonly entriesOf: Database.Statement;
  private readonly ackOne: Database.Statement;
  private readonly setFailures: Database.Statement;
  private readonly letterTx: Database.Transaction<(letter: DeadLetter, seq: number) => void>;
  private readonly pruneOld: Database.Statement;
  private readonly span: Database.Statement;
  private readonly countOf: Database.Statement;
  private readonly pageOf: Database.Statement;
  private readonly recentPage: Database.Statement;
  private readonly dataVersion: Database.Statement;
  private version: unknown;

  constructor(file: string, existingOnly: boolean) {
    this.db = open(file, existingOnly);
    const db = this.db;
    this.insertEvent = db.prepare(
      `insert into flotilla_events (msg_id, type, retry_group, stored_at, envelope) values (?, ?, ?, ?, ?)
       on conflict (msg_id) do nothing`,
    );
    this.fanOut = db.prepare(
      "insert into flotilla_pending (group_name, seq) select name, ? from flotilla_groups where type = ?",
    );
    // Only a remembered group gets the entry: nothing would ever take (or prune) one for a stranger.
    this.pendFor = db.prepare(
      `insert or ignore into flotilla_pending (group_name, seq)
       select ?, ? where exists (select 1 from flotilla_groups where name = ?)`,
    );
    this.deadLetters = new JournalDeadLetters(db, (event, msgId, group) => this.store(event, msgId, group));
    this.appendTx = db.transaction((event: EventEnvelope) => {
      const group = event.headers[Headers.retryGroup];
      // A retry is an event of its own: always appended, for its group only.
      return group === undefined
        ? this.store(event, event.id)
        : this.store(event, `${event.id}:retry:${randomUUID()}`, group);
    });
    const forget = db.prepare("delete from flotilla_groups where name = ?");
    const learn = db.prepare("insert or ignore into flotilla_groups (type, name) values (?, ?)");
    this.remember = db.transaction((group: string, types: readonly string[]) => {
      forget.run(group);
      for (const type of types) learn.run(type, group);
    });
    this.seqsOf = db.prepare("select seq from flotilla_pending where group_name = ? order by seq").pluck();
    this.entriesOf = db.prepare(
      `select p.seq, p.failures, e.envelope from flotilla_pending p join flotilla_events e on e.seq = p.seq
       where p.group_name = ? and p.seq >= ? order by p.seq`,
    );
    this.ackOne = db.prepare("delete from flotilla_pending where group_name = ? and seq = ?");
    this.setFailures = db.prepare("update flotilla_pending set failures = ? where group_name = ? and seq = ?");
    this.letterTx = db.transaction((letter: DeadLetter, seq: number) => {
      this.deadLetters.add(letter);
      this.ackOne.run(letter.group, seq);
    });
    this.pruneOld = db.prepare(
      `delete from flotilla_events where stored_at < ?
       and not exists (select 1 from flotilla_pending p where p.seq = flotilla_events.seq)`,
    );
    // One subquery each: SQLite answers a lone min() or max() from the key, both in one select by a scan.
    this.span = db.prepare(
      `select (select coalesce(min(seq), 1) - 1 from flotilla_events) as first,
              (select coalesce(max(seq), 0) from flotilla_events) as last`,
    );
    const ofTypes = "type in (select value from json_each(?)) and retry_group is null";
    this.countOf = db.prepare(`select count(*) from flotilla_events where ${ofTypes} and seq <= ?`).pluck();
    this.pageOf = db
      .prepare(`select envelope from flotilla_events where ${ofTypes} and seq > ? and seq <= ? order by seq`)
      .pluck();
    this.recentPage = db.prepare(
      `select seq, envelope from flotilla_events where ${ofTypes} and stored_at >= ? and seq > ? and seq <= ? order by seq limit ${HISTORY_WINDOW}`,
    );
    this.dataVersion = db.prepare("pragma data_version").pluck();
    this.version = this.dataVersion.get();
  }

  rememberGroup(group: string, types: readonly string[]): void {
    this.remember.immediate(group, types);
  }

  append(event: EventEnvelope): number | undefined {
    return this.appendTx.immediate(event);
  }

  pendingSeqs(group: string): number[] {
    return this.seqsOf.all(group) as number[];
  }

  pending(group: string, fromSeq: number): JournalEntry[] {
    return (this.entriesOf.all(group, fromSeq) as EntryRow[]).map((row) => ({
      seq: row.seq,
      failures: row.failures,
      event: JSON.parse(row.envelope) as EventEnvelope,
    }));
  }

  ack(group: string, seq: number): void {
    this.ackOne.run(group, seq);
  }

  failed(group: string, seq: number, failures: number): void {
    this.setFailures.run(failures, group, seq);
  }

  deadLetter(letter: DeadLetter, seq: number): void {
    this.letterTx.immediate(letter, seq);
  }

  history(types: readonly string[]): EventHistory {
    const json = JSON.stringify(types);
    const { first, last } = this.span.get() as { first: number; last: number };
    const page = this.pageOf;
    return {
      total: this.countOf.get(json, last) as number,
      async *[Symbol.asyncIterator]() {
        // Window by window of sequences: a long history is never held whole, and pruning meanwhile is harmless.
        for (let after = first; after < last; after += HISTORY_WINDOW) {
          const rows = page.all(json, after, Math.min(after + HISTORY_WINDOW, last)) as string[];
          for (const envelope of rows) yield JSON.parse(envelope) as EventEnvelope;
        }
      },
    };
  }

  recent(types: readonly string[], since: number): AsyncIterable<{ seq: number; event: EventEnvelope }> {
    const json = JSON.stringify(types);
    const { first, last } = this.span.get() as { first: number; last: number };
    const page = this.recentPage;
    return {
      async *[Symbol.asyncIterator]() {
        // A page at a time from where the last ended: the recent past is never held whole either.
        for (let after = first; after < last; ) {
          const rows = page.all(json, since, after, last) as { seq: number; envelope: string }[];
          for (const row of rows) yield { seq: row.seq, event: JSON.parse(row.envelope) as EventEnvelope };
          if (rows.length < HISTORY_WINDOW) return;
          after = (rows.at(-1) as { seq: number }).seq;
        }
      },
    };
  }

  prune(before: number): number {
    return this.pruneOld.run(before).changes;
  }

  changedElsewhere(): boolean {
    const version = this.dataVersion.get();
    if (version === this.version) return false;
    this.version = version;
    return true;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Inserts the event and its pending entries; undefined if `msgId` is in the journal already. */
  private store(event: EventEnvelope, msgId: string, group?: string): number | undefined {
    let envelope: string;
    try {
      envelope = JSON.stringify(event);
    } catch (err) {
      throw new FlotillaError("INVALID_ARGUMENT", `event ${event.id} cannot be serialized: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const inserted = this.insertEvent.run(msgId, event.type, group ?? null, Date.now(), envelope);
    if (inserted.changes === 0) return undefined;
    const seq = Number(inserted.lastInsertRowid);
    if (group === undefined) this.fanOut.run(seq, event.type);
    else this.pendFor.run(group, seq, group);
    return seq;
  }
}

function open(file: string, existingOnly: boolean): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: existingOnly });
    // busy_timeout first: switching to WAL takes a lock another process may hold.
    db.pragma("busy_timeout = 5000");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    if (existingOnly && db.prepare("select 1 from sqlite_master where name = 'flotilla_events'").get() === undefined) {
      throw new FlotillaError("NOT_FOUND", `${file} is not an event journal`, { details: { file } });
    }
    ensureSchema(db, file);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof FlotillaError) throw err;
    throw FlotillaError.of(FlotillaCodes.CONFIG, `cannot open the event journal ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
