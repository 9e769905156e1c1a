/**
 * The event journal against a real SIGKILL: a child process publishes and handles events through a
 * journaled in-process transport and is killed mid-work, twice; a third run on the same files must
 * bring every accepted event to every group (at least once: duplicates are counted, not refused).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "@flotilla/testing";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventJournalFile } from "../src/index.js";
import { tempDir } from "./fixtures/files.js";
import { CRASH_GROUPS as GROUPS } from "./support/journal-events.js";

const WORKER = fileURLToPath(new URL("./fixtures/journal-worker.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  output(): string;
}

describe("event journal across SIGKILL", () => {
  let dir: ReturnType<typeof tempDir>;
  const workers: Worker[] = [];

  function startWorker(from: number, to: number): Worker {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", WORKER, eventJournalFile(dir.path), join(dir.path, "effects.sqlite"), `${from}`, `${to}`],
      { cwd: REPO_ROOT, env: { ...process.env, FLOTILLA_LOG_LEVEL: "silent" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const worker = { child, exited, output: () => out };
    workers.push(worker);
    return worker;
  }

  async function kill(worker: Worker): Promise<void> {
    worker.child.kill("SIGKILL");
    await worker.exited;
    expect(worker.child.signalCode, worker.output()).toBe("SIGKILL");
  }

  /** Reads the worker's effects file while it may still be writing (WAL lets a reader in). */
  function effects<T>(read: (db: Database.Database) => T): T {
    const db = new Database(join(dir.path, "effects.sqlite"), { readonly: true, fileMustExist: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  }
  const count = (sql: string) => effects((db) => db.prepare(sql).pluck().get() as number);
  /** (group, event) pairs accepted but not handled yet: the work a kill interrupts. */
  const unhandled = () =>
    count("select count(*) from published") * GROUPS.length -
    count("select count(*) from (select distinct group_name, id from handled where id in (select id from published))");

  beforeEach((ctx) => {
    dir = tempDir();
    ctx.onTestFailed(() => {
      console.error(workers.map((w, i) => `--- run ${i + 1} ---\n${w.output()}`).join("\n"));
    });
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
      await w.exited;
    }
    dir.remove();
  });

  it("brings every accepted event to every group after kills mid-publish and mid-handling", {
    timeout: 90_000,
  }, async () => {
    const first = startWorker(0, 600);
    await waitFor(() => first.output().includes("ready") && count("select count(*) from handled") >= 100, {
      what: "the first run to handle some events",
      timeoutMs: 30_000,
    });
    await kill(first);
    expect(unhandled()).toBeGreaterThan(0);
    const afterFirst = count("select count(*) from published");
    expect(afterFirst).toBeLessThan(600); // killed while still publishing

    // The second run publishes the first run's ids again (deduplicated) and more, and is killed too.
    const second = startWorker(0, 900);
    await waitFor(() => count("select count(*) from published") >= afterFirst + 100, {
      what: "the second run to publish",
      timeoutMs: 30_000,
    });
    await kill(second);
    expect(unhandled()).toBeGreaterThan(0);

    // The third run publishes nothing new: it only recovers what the journal kept.
    const third = startWorker(0, 0);
    const published = count("select count(*) from published");
    await waitFor(() => unhandled() === 0, { what: "every published event in both groups", timeoutMs: 30_000 });

    const journal = new Database(eventJournalFile(dir.path), { readonly: true });
    try {
      await waitFor(() => journal.prepare("select count(*) from flotilla_pending").pluck().get() === 0, {
        what: "the last acknowledgements",
      });
      expect(journal.prepare("select count(*) from flotilla_dead_letters").pluck().get()).toBe(0);
      // Published by two runs, appended once; each kill may have cut one publish after its append.
      const appended = journal.prepare("select count(*) from flotilla_events").pluck().get() as number;
      expect(appended).toBeGreaterThanOrEqual(published);
      expect(appended).toBeLessThanOrEqual(published + 2);
    } finally {
      journal.close();
    }
    const duplicates = count("select count(*) - count(distinct group_name || id) from handled");
    console.info(`journal crash test: ${published} events × ${GROUPS.length} groups, ${duplicates} handled twice`);
    // Only what was in flight at a kill can run twice: at most maxInFlight per group per kill.
    expect(duplicates).toBeLessThanOrEqual(2 * GROUPS.length * 4);
    await kill(third);
  });
});
