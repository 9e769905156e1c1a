import { existsSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHost, type Host, type ServiceDefinition } from "@flotilla/core";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sqliteDatabases } from "../src/index.js";
import { openFilesUnder, tempDir } from "./fixtures/files.js";
import { createTable, notesContract, notesService } from "./fixtures/notes-service.js";

const alpha = notesContract("alpha");
const beta = notesContract("beta");

describe("sqliteDatabases", () => {
  let dir: ReturnType<typeof tempDir>;
  const hosts: Host[] = [];
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
    dir.remove();
  });

  async function start(services: ServiceDefinition[], dataDir = dir.path): Promise<Host> {
    const host = createHost({ services, resources: [sqliteDatabases({ dataDir })], transport: "memory://" });
    hosts.push(host);
    await host.start();
    return host;
  }

  it("gives each service its own file, holding only its own tables", async () => {
    const host = await start([
      notesService("alpha", { "001_notes": createTable("notes"), "002_alpha": createTable("alpha_only") }),
      notesService("beta", { "001_notes": createTable("notes"), "002_beta": createTable("beta_only") }),
    ]);
    await host.call(alpha.add, { text: "from alpha" });
    await host.call(beta.add, { text: "from beta" });

    const alphaTables = await host.call(alpha.tables, {});
    expect(alphaTables).toContain("alpha_only");
    expect(alphaTables).not.toContain("beta_only");
    expect(await host.call(beta.tables, {})).not.toContain("alpha_only");
    expect(await host.call(alpha.list, {})).toEqual(["from alpha"]);
    expect(await host.call(beta.list, {})).toEqual(["from beta"]);
    expect(existsSync(join(dir.path, "alpha.sqlite"))).toBe(true);
    expect(existsSync(join(dir.path, "beta.sqlite"))).toBe(true);
    const alphaFile = new Database(join(dir.path, "alpha.sqlite"), { readonly: true });
    const names = alphaFile.prepare("select name from sqlite_master").pluck().all();
    alphaFile.close();
    expect(names).toContain("alpha_only");
    expect(names).not.toContain("beta_only");
  });

  it("refuses ATTACH, the one SQL statement that could open another service's file", async () => {
    const host = await start([notesService("alpha"), notesService("beta")]);
    const other = join(dir.path, "beta.sqlite");
    for (const statement of [`attach database '${other}' as b`, `/* hidden */ -- too\n ATTACH '${other}' AS b`]) {
      await expect(host.call(alpha.raw, { sql: statement })).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    }
    expect(await host.call(alpha.raw, { sql: "select 'attach' as word" })).toEqual([{ word: "attach" }]);
  });

  it("opens files with WAL, synchronous=NORMAL, foreign keys on and a 5 s busy timeout", async () => {
    const host = await start([notesService("alpha")]);
    expect(await host.call(alpha.pragmas, {})).toEqual({
      journal_mode: "wal",
      synchronous: 1,
      foreign_keys: 1,
      busy_timeout: 5000,
    });
  });

  it("closing releases the file: nothing stays open, the WAL is checkpointed, the file can go", async () => {
    let runs = 0;
    const service = notesService("alpha", { "001_notes": createTable("notes", () => runs++) });
    const file = join(dir.path, "alpha.sqlite");
    const host = await start([service]);
    await host.call(alpha.add, { text: "kept" });
    expect(openFilesUnder(dir.path)).toContain(file);
    await host.stop();

    expect(openFilesUnder(dir.path)).toEqual([]);
    expect(existsSync(`${file}-wal`)).toBe(false);
    const reopened = new Database(file);
    expect(reopened.prepare("select text from notes").pluck().all()).toEqual(["kept"]);
    reopened.close();

    unlinkSync(file);
    const again = await start([service]);
    expect(await again.call(alpha.list, {})).toEqual([]);
    expect(runs).toBe(2);
  });

  it('gives each service a private in-memory database with dataDir ":memory:"', async () => {
    const host = await start(
      [
        notesService("alpha", { "001_notes": createTable("notes"), "002_alpha": createTable("alpha_only") }),
        notesService("beta"),
      ],
      ":memory:",
    );
    await host.call(alpha.add, { text: "only alpha" });
    expect(await host.call(beta.list, {})).toEqual([]);
    expect(await host.call(beta.tables, {})).not.toContain("alpha_only");
    expect(await host.call(alpha.pragmas, {})).toMatchObject({ journal_mode: "memory", foreign_keys: 1 });
    expect(openFilesUnder(dir.path)).toEqual([]);
  });

  it("fails the start with UNAVAILABLE when the data directory cannot be created", async () => {
    writeFileSync(join(dir.path, "a-file"), "");
    const host = createHost({
      services: [notesService("alpha")],
      resources: [sqliteDatabases({ dataDir: join(dir.path, "a-file", "data") })],
      transport: "memory://",
    });
    await expect(host.start()).rejects.toMatchObject({ code: "UNAVAILABLE", message: /alpha: cannot open/ });
  });
});
