/** The dashboard's audit log: append-only, newest first, filtered, bounded, reopened from its file, logged. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogger, type Logger } from "@flotilla/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openAuditLog } from "../src/dashboard/audit-log.js";

describe("the dashboard's audit log", () => {
  let dir: string;
  let lines: Record<string, unknown>[];
  let log: Logger;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-audit-"));
    lines = [];
    log = createLogger({
      level: "info",
      format: "json",
      stream: new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("lists entries newest first, by action or target, keeps them across a reopen, and logs each", async () => {
    const audit = openAuditLog(dir, { log });
    await audit.record({ at: 1, who: "admin", action: "dead-letter.retry", target: "L1", outcome: "ok" });
    await audit.record({ at: 2, who: "ops", action: "dead-letter.drop", target: "L2", outcome: "NOT_FOUND" });
    await audit.record({ at: 3, who: "admin", action: "dead-letter.drop", target: "L1", outcome: "ok" });
    expect((await audit.list()).map((e) => e.at)).toEqual([3, 2, 1]);
    expect((await audit.list({ action: "dead-letter.drop" })).map((e) => e.target)).toEqual(["L1", "L2"]);
    // A target filter is a prefix: "L" matches every entry.
    expect((await audit.list({ target: "L" })).length).toBe(3);
    expect(await audit.list({ target: "L1", limit: 1 })).toEqual([
      { at: 3, who: "admin", action: "dead-letter.drop", target: "L1", outcome: "ok" },
    ]);
    audit.close();
    const reopened = openAuditLog(dir, { log });
    expect((await reopened.list()).length).toBe(3);
    reopened.close();
    expect(lines.map((l) => l.audit)).toEqual([
      { at: 1, who: "admin", action: "dead-letter.retry", target: "L1", outcome: "ok" },
      { at: 2, who: "ops", action: "dead-letter.drop", target: "L2", outcome: "NOT_FOUND" },
      { at: 3, who: "admin", action: "dead-letter.drop", target: "L1", outcome: "ok" },
    ]);
  });

  it("keeps only the newest entries past its bound", async () => {
    const audit = openAuditLog(dir, { log, keep: 5 });
    for (let i = 1; i <= 12; i++) {
      await audit.record({ at: i, who: "admin", action: "unit.scale", target: `u=${i}`, outcome: "ok" });
    }
    expect((await audit.list({ limit: 100 })).map((e) => e.at)).toEqual([12, 11, 10, 9, 8]);
    audit.close();
  });
});
