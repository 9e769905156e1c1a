import { setTimeout as sleep } from "node:timers/promises";
import { createHost, type Host, type ServiceDefinition } from "@flotilla/core";
import { afterEach, describe, expect, it } from "vitest";
import { databaseProvider, type Kysely, type Migration, postgresDatabases, sql } from "../src/index.js";
import { itemsContract, itemsService, itemsTable } from "./support/items-service.js";
import { usePostgres } from "./support/postgres.js";

const db = usePostgres();

/** Counts its runs in a table, and lingers so that instances starting together overlap inside it. */
const slowFirstMigration: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
  async up(db: Kysely<any>) {
    await db.schema.createTable("migration_runs").addColumn("at", "text").execute();
    await db.insertInto("migration_runs").values({ at: new Date().toISOString() }).execute();
    await sleep(200);
    await itemsTable().up(db);
  },
};

describe("postgres migrations and pools", () => {
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });

  function host(services: ServiceDefinition[], provider = databaseProvider(`${db.server.url}?isolation=schema`)): Host {
    const h = createHost({ services, resources: [provider], transport: "memory://" });
    hosts.push(h);
    return h;
  }

  for (const [isolation, url] of [
    ["schema", () => `${db.server.url}?isolation=schema`],
    ["database", () => db.server.url.replace(/\/postgres$/, "/{service}")],
  ] as const) {
    it(`lets 3 instances start together on one ${isolation}: the migration runs once, all serve`, async () => {
      const name = `together-${isolation}`;
      const service = itemsService(name, { "001_items": slowFirstMigration });
      const instances = [1, 2, 3].map(() => host([service], databaseProvider(url())));
      await Promise.all(instances.map((h) => h.start()));
      await Promise.all(instances.map((h, i) => h.call(itemsContract(name).put, { name: `n${i}`, quantity: i })));
      const raw = (sql: string) => instances[0]!.call(itemsContract(name).raw, { sql });
      expect(await raw("select count(*) as n from migration_runs")).toEqual([{ n: 1 }]);
      expect(await raw("select name from kysely_migration")).toEqual([{ name: "001_items" }]);
      expect(await raw("select count(*) as n from items")).toEqual([{ n: 3 }]);
    });
  }

  it("runs migrations without the statement timeout that bounds every other query", async () => {
    const patient: Migration = {
      async up(db) {
        await sql`select pg_sleep(0.4)`.execute(db);
        await itemsTable().up(db);
      },
    };
    const provider = postgresDatabases({ url: `${db.server.url}?isolation=schema`, statementTimeoutMs: 150 });
    const h = host([itemsService("patient", { "001_items": patient })], provider);
    await h.start();
    await expect(h.call(itemsContract("patient").raw, { sql: "select pg_sleep(0.4)" })).rejects.toThrow(
      /statement timeout/,
    );
    expect(await h.call(itemsContract("patient").raw, { sql: "show statement_timeout" })).toEqual([
      { statement_timeout: "150ms" },
    ]);
  });

  it("creates a service's missing database, and keeps a database-per-service URL to one service", async () => {
    const url = db.server.url.replace(/\/postgres$/, "/solo_db");
    const provider = databaseProvider(url);
    await host([itemsService("solo")], provider).start();
    expect(await db.query("select datname from pg_database where datname = 'solo_db'")).toEqual([
      { datname: "solo_db" },
    ]);
    await expect(host([itemsService("intruder")], provider).start()).rejects.toMatchObject({
      code: "FLOTILLA_CONFIG",
      message: /solo_db is solo's database/,
    });
  });

  it("fails the start with UNAVAILABLE when the server cannot be reached", async () => {
    const closed = db.server.url.replace(`:${db.server.port}/`, ":1/");
    const h = host([itemsService("stranded")], postgresDatabases({ url: closed, connectTimeoutMs: 2_000 }));
    await expect(h.start()).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: /stranded: cannot open its postgres/,
    });
  });

  it("rejects bad configuration with FLOTILLA_CONFIG", () => {
    const config = expect.objectContaining({ code: "FLOTILLA_CONFIG" });
    expect(() => databaseProvider("postgres://h/db?isolation=table")).toThrow(config);
    expect(() => databaseProvider("postgres://h/db?pool_size=0")).toThrow(config);
    expect(() => postgresDatabases({ url: "mysql://h/db" })).toThrow(config);
    expect(() => postgresDatabases({ url: "postgres://u:hunter2@h/db", poolSize: -1 })).toThrow(/pool size/);
    expect(() => postgresDatabases({ url: "postgres://u:hunter2@h:x/db" })).toThrow(/u:\*\*\*@h/);
  });
});
