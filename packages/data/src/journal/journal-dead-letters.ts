/** @module The journal's dead letters: list, get, retry and drop, from the running app or from an operator's process. */
import {
  type DeadLetter,
  type DeadLetterStore,
  type EventEnvelope,
  FlotillaCodes,
  FlotillaError,
  Headers,
  type StoredDeadLetter,
} from "@flotilla/core";
import { parseDeadLetterId } from "@flotilla/core/internal";
import type Database from "better-sqlite3";

interface LetterRow {
  id: number;
  group_name: string;
  envelope: string;
  attempts: number;
  error: string;
  failed_at: string;
}

/** Appends a retried event under its own message id with a pending entry for `group` only. */
export type AppendRetry = (event: EventEnvelope, msgId: string, group: string) => void;

export class JournalDeadLetters implements DeadLetterStore {
  private readonly insert: Database.Statement;
  private readonly all: Database.Statement;
  private readonly ofGroup: Database.Statement;
  private readonly one: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly knownGroup: Database.Statement;
  private readonly retryLetter: Database.Transaction<(id: number) => boolean>;

  constructor(db: Database.Database, appendRetry: AppendRetry) {
    this.insert = db.prepare(
      "insert into flotilla_dead_letters (group_name, envelope, attempts, error, failed_at) values (?, ?, ?, ?, ?)",
    );
    this.all = db.prepare("select * from flotilla_dead_letters order by id");
    this.ofGroup = db.prepare("select * from flotilla_dead_letters where group_name = ? order by id");
    this.one = db.prepare("select * from flotilla_dead_letters where id = ?");
    this.remove = db.prepare("delete from flotilla_dead_letters where id = ?");
    this.knownGroup = db.prepare("select 1 from flotilla_groups where name = ? limit 1").pluck();
    this.retryLetter = db.transaction((id: number) => {
      const row = this.one.get(id) as LetterRow | undefined;
      if (row === undefined) return false;
      if (this.knownGroup.get(row.group_name) === undefined) {
        throw FlotillaError.of(
          FlotillaCodes.DEAD_LETTER_NOT_RETRYABLE,
          `dead letter ${id} belongs to ${row.group_name}, which is no durable group: it cannot be retried`,
          { details: { id: String(id), group: row.group_name } },
        );
      }
      const event = JSON.parse(row.envelope) as EventEnvelope;
      const headers = { ...event.headers, [Headers.retryGroup]: row.group_name };
      // The letter's id is never reused, so the retry's message id is unique and a replay deduplicates.
      appendRetry({ ...event, headers }, `${event.id}:retry:${id}`, row.group_name);
      this.remove.run(id);
      return true;
    });
  }

  /** Records a letter; the caller removes the pending entry in the same transaction. */
  add(letter: DeadLetter): void {
    this.insert.run(
      letter.group,
      JSON.stringify(letter.event),
      letter.attempts,
      JSON.stringify(letter.error),
      letter.failedAt,
    );
  }

  async list(group?: string): Promise<StoredDeadLetter[]> {
    const rows = (group === undefined ? this.all.all() : this.ofGroup.all(group)) as LetterRow[];
    return rows.map(toLetter);
  }

  async get(id: string): Promise<StoredDeadLetter | undefined> {
    const row = this.one.get(parseDeadLetterId(id)) as LetterRow | undefined;
    return row === undefined ? undefined : toLetter(row);
  }

  async retry(id: string): Promise<void> {
    if (!this.retryLetter.immediate(parseDeadLetterId(id))) throw notFound(id);
  }

  async drop(id: string): Promise<void> {
    if (this.remove.run(parseDeadLetterId(id)).changes === 0) throw notFound(id);
  }
}

function toLetter(row: LetterRow): StoredDeadLetter {
  return {
    id: String(row.id),
    group: row.group_name,
    event: JSON.parse(row.envelope) as EventEnvelope,
    attempts: row.attempts,
    error: JSON.parse(row.error) as unknown,
    failedAt: row.failed_at,
  };
}

function notFound(id: string): FlotillaError {
  return new FlotillaError("NOT_FOUND", `no dead letter ${id}`, { details: { id } });
}
