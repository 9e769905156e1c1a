/**
 * @module The peers of the write-cost benchmark. Each inserts the same row in a transaction of its
 * own, one call after another, into a fresh database:
 *
 * - `driver`: better-sqlite3 / pg directly (BEGIN, INSERT, COMMIT): the floor.
 * - `kysely`: Kysely on the very dialect Flotilla's provider uses (same pragmas, pool and BEGIN), no host.
 * - `plain`: a Flotilla action that inserts the row in `ctx.db.transaction()`, called through a host.
 * - `outbox`: the same action also `ctx.emit`s one event in that transaction; the outbox relay runs
 *   (publishing to the in-process transport, which has no subscriber, and deleting the rows).
 * - `outbox-norelay`: the same, with the relay off (`databaseProvider(…, { relay: false })`): the
 *   write alone; the rows stay in the outbox.
 * - `order`, `order-outbox`, `order-outbox-norelay`: the same three with a realistic write instead of
 *   one row: the shop's order transaction (an order row and three item rows in one multi-row insert,
 *   the shop's tables and indexes), and its OrderPlaced event. The order cases compare with `order`.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createHost, createLogger, type ResourceOwner } from "@flotilla/core";
import { databaseProvider } from "@flotilla/data";
import { postgresDialect, sqliteDialect } from "@flotilla/data/internal";
import Database from "better-sqlite3";
import { Kysely } from "kysely";
import pg from "pg";
import { type BenchTables, ITEMS_DDL, row, writerContract, writerService } from "./services.js";

export const WRITE_IMPLS = [
  "driver",
  "kysely",
  "plain",
  "outbox",
  "outbox-norelay",
  "order",
  "order-outbox",
  "order-outbox-norelay",
] as const;
export type WriteImpl = (typeof WRITE_IMPLS)[number];
export const DBS = ["sqlite", "postgres"] as const;
export type Db = (typeof DBS)[number];

export const WRITE_LABELS: Record<WriteImpl, string> = {
  driver: "driver (better-sqlite3 / pg), BEGIN+INSERT+COMMIT",
  kysely: "Kysely transaction, same dialect, no host",
  plain: "Flotilla action, insert in ctx.db.transaction()",
  outbox: "Flotilla action, insert + ctx.emit, relay on",
  "outbox-norelay": "Flotilla action, insert + ctx.emit, relay off",
  order: "Flotilla action, shop order (order + 3 items) in a transaction",
  "order-outbox": "Flotilla action, shop order + ctx.emit, relay on",
  "order-outbox-norelay": "Flotilla action, shop order + ctx.emit, relay off",
};

/** The case each one's time is compared with (the outbox goal: ≤ 1.3× it). */
export function baselineOf(impl: WriteImpl): WriteImpl {
  return impl.startsWith("order") ? "order" : "plain";
}

export interface WriteTarget {
  db: Db;
  /** SQLite: the directory for this case's files (a fresh one per case). */
  dir: string;
  /** PostgreSQL: the server's URL without a database, e.g. `postgres://postgres@127.0.0.1:5432`. */
  pgBase: string;
  /** The service (and so database) name: fresh per case, so every case starts from an empty table. */
  service: string;
}

export interface WriteCase {
  write(id: number): Promise<unknown>;
  /** Rows written, and rows left in the outbox (Flotilla cases). */
  check(): Promise<{ rows: number; outbox: number | null }>;
  close(): Promise<void>;
}

const silent = () => createLogger({ level: "silent" });

export function startWriteCase(impl: WriteImpl, t: WriteTarget): Promise<WriteCase> {
  switch (impl) {
    case "driver":
      return t.db === "sqlite" ? sqliteDriver(t) : pgDriver(t);
    case "kysely":
      return kyselyCase(t);
    default:
      return flotillaCase(impl, t);
  }
}

async function sqliteDriver(t: WriteTarget): Promise<WriteCase> {
  mkdirSync(t.dir, { recursive: true });
  const db = new Database(join(t.dir, `${t.service}.sqlite`));
  // The pragmas Flotilla's SQLite dialect sets.
  db.pragma("busy_timeout = 5000");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.exec(ITEMS_DDL.sqlite);
  const insert = db.prepare("insert into items (id, name, qty, created_at) values (?, ?, ?, ?)");
  const tx = db.transaction((id: number) => {
    const r = row(id);
    insert.run(r.id, r.name, r.qty, r.created_at);
  });
  return {
    write: async (id) => tx.immediate(id),
    check: async () => ({ rows: Number(db.prepare("select count(*) from items").pluck().get()), outbox: null }),
    async close() {
      db.close();
    },
  };
}

async function pgDriver(t: WriteTarget): Promise<WriteCase> {
  const database = t.service.replaceAll("-", "_");
  const admin = new pg.Client({ connectionString: `${t.pgBase}/postgres` });
  await admin.connect();
  await admin.query(`create database "${database}"`);
  await admin.end();
  const client = new pg.Client({ connectionString: `${t.pgBase}/${database}` });
  await client.connect();
  await client.query(ITEMS_DDL.postgres);
  const text = "insert into items (id, name, qty, created_at) values ($1, $2, $3, $4)";
  return {
    async write(id) {
      const r = row(id);
      await client.query("begin");
      await client.query(text, [r.id, r.name, r.qty, r.created_at]);
      await client.query("commit");
    },
    async check() {
      const result = await client.query("select count(*)::int as n from items");
      return { rows: Number(result.rows[0]?.n), outbox: null };
    },
    async close() {
      await client.end();
    },
  };
}

async function kyselyCase(t: WriteTarget): Promise<WriteCase> {
  const owner: ResourceOwner = {
    service: t.service,
    instance: `${t.service}-bench`,
    log: silent(),
    transport: { name: "none", send: async () => {} },
  };
  const dialect =
    t.db === "sqlite" ? sqliteDialect({ dataDir: t.dir }) : postgresDialect({ url: `${t.pgBase}/{service}` });
  const db: Kysely<BenchTables> = new Kysely<BenchTables>({ dialect: dialect.open(owner) });
  await db.schema
    .createTable("items")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("qty", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  return {
    write: (id) =>
      db.transaction().execute(async (trx) => {
        await trx.insertInto("items").values(row(id)).execute();
      }),
    async check() {
      const r = await db
        .selectFrom("items")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      return { rows: Number(r.n), outbox: null };
    },
    close: () => db.destroy(),
  };
}

async function flotillaCase(impl: Exclude<WriteImpl, "driver" | "kysely">, t: WriteTarget): Promise<WriteCase> {
  const spec = t.db === "sqlite" ? `sqlite:${t.dir}` : `${t.pgBase}/{service}`;
  const host = createHost({
    services: [writerService(t.service)],
    resources: [databaseProvider(spec, impl.endsWith("-norelay") ? { relay: false } : {})],
    logger: silent(),
  });
  await host.start();
  const api = writerContract(t.service);
  const action = {
    plain: api.plain,
    outbox: api.outbox,
    "outbox-norelay": api.outbox,
    order: api.order,
    "order-outbox": api.orderOutbox,
    "order-outbox-norelay": api.orderOutbox,
  }[impl];
  const table = impl.startsWith("order") ? "orders" : "items";
  return {
    write: (id) => host.call(action, { id }),
    check: () => host.call(api.stats, { table }),
    close: () => host.stop(),
  };
}
