import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHost, type Host, type ServiceDefinition } from "@flotilla/core";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { databaseProvider, postgresDatabases } from "../src/index.js";
import { postgresNames } from "../src/internal.js";
import { itemsContract, itemsService } from "./support/items-service.js";
import { usePostgres } from "./support/postgres.js";

const db = usePostgres();
const schemaUrl = () => `${db.server.url}?isolation=schema`;

describe("postgres, a schema and role per service", () => {
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });

  async function start(services: ServiceDefinition[], url = schemaUrl()): Promise<Host> {
    const host = createHost({ services, resources: [databaseProvider(url)], transport: "memory://" });
    hosts.push(host);
    await host.start();
    return host;
  }

  it("stops a service reading another's tables, even by their fully qualified name", async () => {
    const host = await start([itemsService("shelf"), itemsService("vault")]);
    await host.call(itemsContract("vault").put, { name: "gold", quantity: 1 });
    const shelf = itemsContract("shelf");
    const raw = (sql: string) => host.call(shelf.raw, { sql });

    await expect(raw("select * from vault.items")).rejects.toThrow(/permission denied for schema vault/);
    await expect(raw('select * from "vault"."items"')).rejects.toThrow(/permission denied for schema vault/);
    // A search path skips schemas the role may not use, so the name finds nothing there.
    await expect(raw("set search_path = vault; select * from items")).rejects.toThrow(/"items" does not exist/);
    await expect(raw("create table vault.planted (id int)")).rejects.toThrow(/permission denied/);
    await expect(raw("set role flotilla_vault")).rejects.toThrow(/permission denied to set role/);
    // Its own tables, unqualified or qualified, are all it can reach.
    expect(await raw("select count(*) as n from shelf.items")).toEqual([{ n: 0 }]);
    expect(await db.query("select schemaname, tableowner from pg_tables where tablename = 'items' order by 1")).toEqual(
      [
        { schemaname: "shelf", tableowner: "flotilla_shelf" },
        { schemaname: "vault", tableowner: "flotilla_vault" },
      ],
    );
  });

  it("closes the public schema, even to tables granted to PUBLIC", async () => {
    await db.query("create table public.shared (x int); grant select on public.shared to public");
    const host = await start([itemsService("lurker")]);
    const raw = (sql: string) => host.call(itemsContract("lurker").raw, { sql });
    await expect(raw("select * from public.shared")).rejects.toThrow(/permission denied for schema public/);
    await expect(raw("create table public.mine (x int)")).rejects.toThrow(/permission denied for schema public/);
  });

  it("connects as the service's role, in its schema, with the pool's session settings", async () => {
    const host = await start([itemsService("settings")]);
    const [row] = await host.call(itemsContract("settings").raw, {
      sql: `select current_user as "user", current_schema() as schema, current_setting('statement_timeout') as st,
        current_setting('idle_in_transaction_session_timeout') as idle, current_setting('application_name') as app`,
    });
    expect(row).toEqual({
      user: "flotilla_settings",
      schema: "settings",
      st: "30s",
      idle: "1min",
      app: expect.any(String),
    });
    expect(row?.app).toMatch(/^settings\/.+/);
    const [role] = await db.query(
      "select rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin from pg_roles where rolname = $1",
      ["flotilla_settings"],
    );
    expect(role).toEqual({
      rolsuper: false,
      rolinherit: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolcanlogin: true,
    });
  });

  it("provisions idempotently, and takes back privileges granted to the role since", async () => {
    await (await start([itemsService("thief"), itemsService("victim")])).stop();
    await db.query("grant pg_read_all_data to flotilla_thief");
    await db.query("grant usage on schema victim to flotilla_thief; grant select on victim.items to flotilla_thief");
    const host = await start([itemsService("thief"), itemsService("victim")]);
    await expect(host.call(itemsContract("thief").raw, { sql: "select * from victim.items" })).rejects.toThrow(
      /permission denied for schema victim/,
    );
    expect(await db.query("select count(*)::int as n from pg_roles where rolname = 'flotilla_thief'")).toEqual([
      { n: 1 },
    ]);
  });

  it("connects as a service's own, already provisioned role, with no admin credentials", async () => {
    await (await start([itemsService("prepared"), itemsService("neighbour")])).stop();
    const own = schemaUrl().replace("postgres@", "flotilla_prepared@");
    const host = await start([itemsService("prepared")], own);
    const api = itemsContract("prepared");
    await host.call(api.put, { name: "mine", quantity: 1 });
    expect(await host.call(api.raw, { sql: "select current_user as u" })).toEqual([{ u: "flotilla_prepared" }]);
    await expect(host.call(api.raw, { sql: "select * from neighbour.items" })).rejects.toThrow(/permission denied/);
    // Its credentials cannot provision, let alone open, another service.
    await expect(start([itemsService("neighbour")], own)).rejects.toThrow(/permission denied/);
  });

  it("provisions with an admin that is no superuser: the database's owner, with CREATEROLE", async () => {
    await db.query("create role shop_admin login createrole");
    await db.query("create database shared_shop owner shop_admin");
    const url = db.server.url
      .replace("postgres@", "shop_admin@")
      .replace(/\/postgres$/, "/shared_shop?isolation=schema");
    const host = await start([itemsService("modest"), itemsService("humble")], url);
    await host.call(itemsContract("humble").put, { name: "h", quantity: 1 });
    await expect(host.call(itemsContract("modest").raw, { sql: "select * from humble.items" })).rejects.toThrow(
      /permission denied for schema humble/,
    );
  });

  it("refuses a role that is a superuser, and a schema another role owns", async () => {
    await (await start([itemsService("mighty")])).stop();
    await db.query("alter role flotilla_mighty superuser");
    await expect(start([itemsService("mighty")])).rejects.toMatchObject({
      code: "FLOTILLA_CONFIG",
      message: /flotilla_mighty is a superuser/,
    });
    await db.query("create schema squatted");
    await expect(start([itemsService("squatted")])).rejects.toMatchObject({
      code: "FLOTILLA_CONFIG",
      message: /schema squatted exists and belongs to postgres/,
    });
    expect(() => postgresNames("pg-stats")).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
    expect(() => postgresNames("public")).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
    expect(postgresNames("order-history")).toEqual({ role: "flotilla_order_history", schema: "order_history" });
  });

  it("gives the role a password derived from the admin's, which password authentication accepts", async () => {
    // Password authentication for this role only: the cluster trusts everyone else on loopback.
    const hba = join(db.server.dataDir, "pg_hba.conf");
    writeFileSync(hba, `host all flotilla_locked 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, "utf8")}`);
    await db.query("select pg_reload_conf()");
    const adminWithPassword = schemaUrl().replace("postgres@", "postgres:admin-secret@");
    const host = await start([itemsService("locked")], adminWithPassword);
    await host.call(itemsContract("locked").put, { name: "behind a password", quantity: 1 });

    const [stored] = await db.query<{ p: string }>(
      "select rolpassword as p from pg_authid where rolname = 'flotilla_locked'",
    );
    expect(stored?.p).toMatch(/^SCRAM-SHA-256\$4096:/);
    const wrong = new pg.Client({ connectionString: db.server.url.replace("postgres@", "flotilla_locked:guess@") });
    await expect(wrong.connect()).rejects.toMatchObject({ code: "28P01" });

    const explicit = postgresDatabases({ url: schemaUrl(), rolePassword: (role) => `pw-for-${role}` });
    const again = createHost({ services: [itemsService("locked")], resources: [explicit], transport: "memory://" });
    hosts.push(again);
    await again.start();
    const right = new pg.Client({
      connectionString: db.server.url.replace("postgres@", "flotilla_locked:pw-for-flotilla_locked@"),
    });
    await right.connect();
    await right.end();
  });
});
