import { existsSync } from "node:fs";
import { join } from "node:path";
import { createHost, type Host } from "@flotilla/core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { databaseEnvVar, databaseProviderFromEnv } from "../src/index.js";
import { tempDir } from "./fixtures/files.js";
import { itemsContract, itemsService } from "./support/items-service.js";
import { usePostgres } from "./support/postgres.js";

const db = usePostgres();
const dir = tempDir();
afterAll(() => dir.remove());

describe("databaseProviderFromEnv", () => {
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });

  async function start(env: Record<string, string>, ...services: string[]): Promise<Host> {
    const provider = databaseProviderFromEnv({ env, fallback: `sqlite:${dir.path}` });
    const host = createHost({
      services: services.map((s) => itemsService(s)),
      resources: [provider],
      transport: "memory://",
    });
    hosts.push(host);
    await host.start();
    for (const service of services) await host.call(itemsContract(service).put, { name: service, quantity: 1 });
    return host;
  }

  it("names each service's variable after it", () => {
    expect(databaseEnvVar("orders")).toBe("FLOTILLA_DB_ORDERS");
    expect(databaseEnvVar("order-history")).toBe("FLOTILLA_DB_ORDER_HISTORY");
  });

  it("puts a service named in FLOTILLA_DB_<SERVICE> there, and the others on the fallback", async () => {
    await start({ FLOTILLA_DB_LEDGER: `${db.server.url}?isolation=schema` }, "ledger", "notebook");
    expect(await db.query("select name from ledger.items")).toEqual([{ name: "ledger" }]);
    expect(existsSync(join(dir.path, "notebook.sqlite"))).toBe(true);
    expect(existsSync(join(dir.path, "ledger.sqlite"))).toBe(false);
  });

  it("takes FLOTILLA_DB for every service the environment does not name", async () => {
    const perService = db.server.url.replace(/\/postgres$/, "/{service}");
    await start({ FLOTILLA_DB: perService, FLOTILLA_DB_DIARY: `sqlite:${dir.path}` }, "journal", "diary");
    expect(await db.query("select datname from pg_database where datname = 'journal'")).toEqual([
      { datname: "journal" },
    ]);
    expect(existsSync(join(dir.path, "diary.sqlite"))).toBe(true);
  });

  it("fails fast on a bad URL, naming the variable", () => {
    expect(() => databaseProviderFromEnv({ env: { FLOTILLA_DB_ORDERS: "postgres://h/db?isolation=rows" } })).toThrow(
      expect.objectContaining({ code: "FLOTILLA_CONFIG", message: expect.stringMatching(/^FLOTILLA_DB_ORDERS: /) }),
    );
  });
});
