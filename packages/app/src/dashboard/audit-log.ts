/**
 * @module The dashboard's audit log: every action taken through it (a retry, a drop, a scale), kept in
 * `<data dir>/flotilla.dashboard.sqlite`, append-only and bounded to the newest entries, and each one also
 * logged as a structured line, so a log pipeline keeps them beyond the bound.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@flotilla/core";
import { MEMORY } from "@flotilla/data/internal";
import Database from "better-sqlite3";
import type { AuditEntry, AuditLog } from "./dashboard-context.js";

export const AUDIT_FILE = "flotilla.dashboard.sqlite";

/** Entries kept: the oldest go as newer ones come. */
export const AUDIT_KEEP = 10_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  who TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_action ON audit (action, seq);
`;

export interface SqliteAuditLog extends AuditLog {
  close(): void;
}

export interface AuditLogOptions {
  readonly log: Logger;
  /** Entries kept (10,000). */
  readonly keep?: number;
}

/** Opens (creating) the audit log in `dataDir`; a `:memory:` data directory keeps it in memory. */
export function openAuditLog(dataDir: string, options: AuditLogOptions): SqliteAuditLog {
  if (dataDir !== MEMORY) mkdirSync(dataDir, { recursive: true });
  const db = new Database(dataDir === MEMORY ? MEMORY : join(dataDir, AUDIT_FILE));
  if (dataDir !== MEMORY) db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA);
  const keep = options.keep ?? AUDIT_KEEP;
  const insert = db.prepare("INSERT INTO audit (at, who, action, target, outcome) VALUES (?, ?, ?, ?, ?)");
  // Seqs only grow, so everything below the newest `keep` is the oldest: one indexed delete per insert.
  const trim = db.prepare("DELETE FROM audit WHERE seq <= (SELECT MAX(seq) FROM audit) - ?");
  const append = db.transaction((e: AuditEntry) => {
    insert.run(e.at, e.who, e.action, e.target, e.outcome);
    trim.run(keep);
  });
  // A NULL filter matches every entry: one statement for every combination of filters.
  const select = db.prepare(
    `SELECT at, who, action, target, outcome FROM audit
     WHERE (@action IS NULL OR action = @action)
       AND (@target IS NULL OR substr(target, 1, length(@target)) = @target)
     ORDER BY seq DESC LIMIT @limit`,
  );
  return {
    async record(entry) {
      append(entry);
      options.log.info({ audit: entry }, `dashboard: ${entry.who} ${entry.action} ${entry.target}: ${entry.outcome}`);
    },
    async list(query = {}) {
      const limit = Math.max(1, Math.min(keep, Math.floor(query.limit ?? 100)));
      return select.all({ action: query.action ?? null, target: query.target ?? null, limit }) as AuditEntry[];
    },
    close() {
      db.close();
    },
  };
}
