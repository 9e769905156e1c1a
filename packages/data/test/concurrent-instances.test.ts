import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tempDir } from "./fixtures/files.js";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./fixtures/start-shared-host.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

describe("instances of one service in separate processes", () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it("share its file: they start together, the migration applies once, every write lands", async () => {
    const names = ["p1", "p2", "p3", "p4"];
    const outcomes = await Promise.allSettled(
      names.map((name) =>
        run(process.execPath, ["--import", "tsx", CHILD, dir.path, name], {
          cwd: REPO_ROOT,
          env: { ...process.env, FLOTILLA_LOG_LEVEL: "silent" },
        }),
      ),
    );
    const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [String(o.reason?.stderr ?? o.reason)] : []));
    expect(failures).toEqual([]);
    const db = new Database(join(dir.path, "alpha.sqlite"), { readonly: true });
    try {
      expect(db.prepare("select count(*) from migration_runs").pluck().get()).toBe(1);
      expect(db.prepare("select name from kysely_migration").pluck().all()).toEqual(["001_notes"]);
      expect((db.prepare("select text from notes").pluck().all() as string[]).sort()).toEqual(names);
    } finally {
      db.close();
    }
  });
});
