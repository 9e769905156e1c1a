/** @module SQLite via better-sqlite3: one file per service in a data directory, or a private in-memory database. */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { FlotillaCodes, FlotillaError, type ResourceOwner } from "@flotilla/core";
import Database from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  type TransactionSettings,
} from "kysely";
import type { DatabaseDialect } from "./dialect.js";

export const MEMORY = ":memory:";

export interface SqliteOptions {
  /**
   * Directory of `<service>.sqlite` files, created if missing (default: FLOTILLA_DATA_DIR, else
   * `.flotilla/data`); `":memory:"` gives each service a private in-memory database, for tests.
   */
  dataDir?: string;
}

export interface SqliteDatabaseDialect extends DatabaseDialect {
  /** Absolute, or `":memory:"`. */
  readonly dataDir: string;
}

const SAFE_FILE_NAME = /^[a-z][a-z0-9-]*$/;
// ATTACH must start its statement, so only leading whitespace and comments can hide it. Each
// alternative starts with a different character, so matching stays linear.
const ATTACH = /^(?:\s|--[^\n]*\n|\/\*(?:[^*]|\*(?!\/))*\*\/)*attach\b/i;

/** The data directory: the one given, else FLOTILLA_DATA_DIR, else `.flotilla/data` (not yet resolved). */
export function dataDirFrom(value?: string): string {
  return value ?? process.env.FLOTILLA_DATA_DIR ?? ".flotilla/data";
}

export function sqliteDialect(options: SqliteOptions = {}): SqliteDatabaseDialect {
  const configured = dataDirFrom(options.dataDir);
  // Resolved now, so a later chdir cannot split a service's data across two directories.
  const dataDir = configured === MEMORY ? MEMORY : resolve(configured);
  return {
    name: "sqlite",
    dataDir,
    open(owner: ResourceOwner) {
      const file = dataDir === MEMORY ? MEMORY : join(dataDir, `${fileName(owner.service)}.sqlite`);
      return new FlotillaSqliteDialect({
        database: async () => {
          if (file !== MEMORY) mkdirSync(dataDir, { recursive: true });
          return openSqlite(file);
        },
      });
    },
  };
}

function fileName(service: string): string {
  // The name becomes a path: it must not be able to leave dataDir or name another service's file.
  if (!SAFE_FILE_NAME.test(service)) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `service name "${service}" cannot name a database file`);
  }
  return service;
}

function openSqlite(file: string): SqliteDatabase {
  const db = new Database(file);
  try {
    // busy_timeout first: switching to WAL takes a lock another process may hold.
    db.pragma("busy_timeout = 5000");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
  } catch (err) {
    db.close();
    throw err;
  }
  // Kysely's driver prepares every query anew; preparing costs as much as running a small insert, so
  // statements are kept by their SQL (Kysely binds values as parameters, so the set stays small).
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare(sql) {
      const cached = statements.get(sql);
      // `busy`: still iterating a streamed result; that query gets a statement of its own.
      if (cached !== undefined && !cached.busy) return cached;
      if (ATTACH.test(sql)) {
        throw new FlotillaError("PERMISSION_DENIED", "ATTACH is refused: a service reaches only its own database");
      }
      const statement = db.prepare(sql);
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      statements.set(sql, statement);
      return statement;
    },
  };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite dialect with two changes. Transactions that may write begin IMMEDIATE, taking the
 * write lock up front (waiting up to busy_timeout) instead of failing with SQLITE_BUSY when another
 * process wrote since they read. And DDL counts as transactional (SQLite supports it), so pending
 * migrations apply together or not at all, as on PostgreSQL.
 */
class FlotillaSqliteDialect extends SqliteDialect {
  constructor(private readonly config: SqliteDialectConfig) {
    super(config);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    const begin = settings?.accessMode === "read only" ? "begin" : "begin immediate";
    await connection.executeQuery(CompiledQuery.raw(begin));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
