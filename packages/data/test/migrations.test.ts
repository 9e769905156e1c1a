import { join } from "node:path";
import { createHost, FlotillaError, type Host, type ServiceDefinition } from "@flotilla/core";
import Database from "better-sqlite3";
import type { Migration } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sqliteDatabases } from "../src/index.js";
import { openFilesUnder, tempDir } from "./fixtures/files.js";
import { createTable, notesContract, notesService } from "./fixtures/notes-service.js";

const alpha = notesContract("alpha");

function failing(error: Error): Migration {
  return {
    async up() {
      throw error;
    },
  };
}

describe("migrations", () => {
  let dir: ReturnType<typeof tempDir>;
  const hosts: Host[] = [];
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
    dir.remove();
  });

  function host(services: ServiceDefinition[]): Host {
    const h = createHost({ services, resources: [sqliteDatabases({ dataDir: dir.path })], transport: "memory://" });
    hosts.push(h);
    return h;
  }

  function appliedMigrations(service: string): string[] {
    const db = new Database(join(dir.path, `${service}.sqlite`), { readonly: true });
    try {
      return db.prepare("select name from kysely_migration order by name").pluck().all() as string[];
    } finally {
      db.close();
    }
  }

  it("run once: a restart on the same directory keeps the data and re-runs nothing", async () => {
    let runs = 0;
    const service = notesService("alpha", { "001_notes": createTable("notes", () => runs++) });
    const first = host([service]);
    await first.start();
    await first.call(alpha.add, { text: "survives" });
    await first.stop();

    const second = host([service]);
    await second.start();
    expect(await second.call(alpha.list, {})).toEqual(["survives"]);
    expect(runs).toBe(1);
    expect(appliedMigrations("alpha")).toEqual(["001_notes"]);
  });

  it("run in code-unit name order, whatever order the record lists them in", async () => {
    const order: string[] = [];
    const track = (name: string): Migration => createTable(`t_${name}`, () => order.push(name));
    const service = notesService("alpha", {
      "010_c": track("010_c"),
      a_lower: track("a_lower"),
      "001_notes": createTable("notes", () => order.push("001_notes")),
      "002_b": track("002_b"),
      B_upper: track("B_upper"),
    });
    await host([service]).start();
    expect(order).toEqual(["001_notes", "002_b", "010_c", "B_upper", "a_lower"]);
  });

  it("a failing migration fails the start with FLOTILLA_MIGRATION_FAILED, and the host cleans up", async () => {
    const boom = new Error("column exploded");
    let notesRuns = 0;
    const broken = notesService("beta", {
      "001_notes": createTable("notes", () => notesRuns++),
      "002_broken": failing(boom),
    });
    const h = host([notesService("alpha"), broken]);

    const err = await h.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlotillaError);
    expect(err).toMatchObject({
      code: "FLOTILLA_MIGRATION_FAILED",
      status: "INTERNAL",
      details: { service: "beta", migration: "002_broken" },
    });
    expect((err as FlotillaError).message).toContain("002_broken");
    expect((err as FlotillaError).cause).toBe(boom);
    expect(openFilesUnder(dir.path)).toEqual([]);
    await expect(h.call(alpha.list, {})).rejects.toBeInstanceOf(FlotillaError);
    // Pending migrations apply together: 001 ran, then rolled back with 002.
    expect(notesRuns).toBe(1);
    expect(appliedMigrations("beta")).toEqual([]);

    const fixed = notesService("beta", {
      "001_notes": createTable("notes", () => notesRuns++),
      "002_broken": {
        async up() {},
      },
    });
    await host([fixed]).start();
    expect(notesRuns).toBe(2);
    expect(appliedMigrations("beta")).toEqual(["001_notes", "002_broken"]);
  });

  it("refuses to start when the code's migrations disagree with the applied history", async () => {
    await host([notesService("alpha", { "001_notes": createTable("notes"), "003_c": createTable("c") })]).start();
    await hosts[0]?.stop();

    const inserted = host([
      notesService("alpha", {
        "001_notes": createTable("notes"),
        "002_b": createTable("b"),
        "003_c": createTable("c"),
      }),
    ]);
    await expect(inserted.start()).rejects.toMatchObject({
      code: "FLOTILLA_MIGRATION_FAILED",
      details: { service: "alpha", migration: undefined },
    });

    const removed = host([notesService("alpha", { "001_notes": createTable("notes") })]);
    await expect(removed.start()).rejects.toMatchObject({ code: "FLOTILLA_MIGRATION_FAILED" });
    expect(appliedMigrations("alpha")).toEqual(["001_notes", "003_c"]);
  });
});
