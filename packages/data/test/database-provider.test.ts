import { existsSync } from "node:fs";
import { join } from "node:path";
import { createHost, createLogger, type Host, type ResourceSpec } from "@flotilla/core";
import type { Migration } from "kysely";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { database, databaseProvider, sqliteDatabases } from "../src/index.js";
import { resolveDialect, type SqliteDatabaseDialect } from "../src/internal.js";
import { tempDir } from "./fixtures/files.js";
import { notesContract, notesService } from "./fixtures/notes-service.js";

const alpha = notesContract("alpha");
const owner = {
  service: "alpha",
  instance: "alpha-1",
  log: createLogger({ level: "silent" }),
  transport: { name: "none", send: async () => undefined },
};

describe("databaseProvider and the data directory", () => {
  let dir: ReturnType<typeof tempDir>;
  const hosts: Host[] = [];
  const cwd = process.cwd();
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
    process.chdir(cwd);
    vi.unstubAllEnvs();
    dir.remove();
  });

  async function startWith(resources: Parameters<typeof createHost>[0]): Promise<Host> {
    const host = createHost({ services: [notesService("alpha")], transport: "memory://", ...resources });
    hosts.push(host);
    await host.start();
    return host;
  }

  it("defaults to .flotilla/data under the working directory, created if missing", async () => {
    vi.stubEnv("FLOTILLA_DATA_DIR", undefined);
    process.chdir(dir.path);
    const host = await startWith({ resources: [sqliteDatabases()] });
    await host.call(alpha.add, { text: "x" });
    expect(existsSync(join(dir.path, ".flotilla", "data", "alpha.sqlite"))).toBe(true);
  });

  it("takes FLOTILLA_DATA_DIR over the default, and an explicit dataDir over both", async () => {
    vi.stubEnv("FLOTILLA_DATA_DIR", join(dir.path, "from-env"));
    await startWith({ resources: [sqliteDatabases()] });
    expect(existsSync(join(dir.path, "from-env", "alpha.sqlite"))).toBe(true);
    await hosts[0]?.stop();

    await startWith({ resources: [sqliteDatabases({ dataDir: join(dir.path, "explicit") })] });
    expect(existsSync(join(dir.path, "explicit", "alpha.sqlite"))).toBe(true);
  });

  it("resolves a dialect by URL scheme", async () => {
    const dataDir = (url: string) => (resolveDialect(url) as SqliteDatabaseDialect).dataDir;
    expect(dataDir("sqlite::memory:")).toBe(":memory:");
    expect(dataDir("sqlite://:memory:")).toBe(":memory:");
    expect(dataDir("sqlite:///var/lib/flotilla")).toBe("/var/lib/flotilla");
    expect(dataDir("sqlite:rel/dir")).toBe(join(process.cwd(), "rel/dir"));
    expect(dataDir("sqlite://rel/dir")).toBe(join(process.cwd(), "rel/dir"));
    vi.stubEnv("FLOTILLA_DATA_DIR", "/srv/data");
    expect(dataDir("sqlite:")).toBe("/srv/data");

    const host = await startWith({ resources: [databaseProvider(`sqlite:${dir.path}`)] });
    await host.call(alpha.add, { text: "x" });
    expect(existsSync(join(dir.path, "alpha.sqlite"))).toBe(true);
  });

  it("rejects an unknown scheme or a bare path with FLOTILLA_CONFIG", () => {
    expect(() => databaseProvider("mysql://db/shop")).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
    expect(() => databaseProvider("mysql://db/shop")).toThrow(/known: sqlite/);
    expect(() => databaseProvider("./data")).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
  });

  it("accepts a dialect object in place of a URL", async () => {
    const host = await startWith({ resources: [databaseProvider(resolveDialect("sqlite::memory:"))] });
    expect(await host.call(alpha.list, {})).toEqual([]);
  });

  it("validates database() and what a provider is asked to open", async () => {
    const config = expect.objectContaining({ code: "FLOTILLA_CONFIG" });
    expect(() => database({ migrations: { "001": {} as Migration } })).toThrow(config);
    expect(() => database(undefined as never)).toThrow(config);

    const provider = sqliteDatabases({ dataDir: dir.path });
    const foreign: ResourceSpec = { kind: "database" };
    await expect(provider.open(foreign, owner)).rejects.toMatchObject({ code: "FLOTILLA_CONFIG" });
    const spec = database({ migrations: {} });
    await expect(provider.open(spec, { ...owner, service: "../beta" })).rejects.toMatchObject({
      code: "FLOTILLA_CONFIG",
    });
    const handle = await provider.open(spec, owner);
    expect(existsSync(join(dir.path, "alpha.sqlite"))).toBe(true);
    await handle.close();
  });
});
