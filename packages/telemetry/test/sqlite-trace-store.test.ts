/** What only the SQLite trace store promises: a file that survives restarts, shared and bounded on disk. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SpanRecord, sqliteTraceStore } from "../src/index.js";

const writer = resolve(import.meta.dirname, "fixtures/trace-writer.ts");

function span(trace: number, fields: Partial<SpanRecord> = {}): SpanRecord {
  return {
    traceId: trace.toString(16).padStart(32, "0"),
    spanId: "00000000000000a1",
    name: "op",
    kind: 1,
    startMs: 1_000_000 + trace,
    durationMs: 3,
    status: 0,
    service: "orders",
    attributes: {},
    sampled: true,
    ...fields,
  };
}

describe("sqliteTraceStore", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-trace-file-"));
    file = join(dir, "nested", "traces.sqlite");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps its traces across a restart", async () => {
    const first = sqliteTraceStore({ file });
    first.add([span(1), span(2)]);
    await first.close();
    const second = sqliteTraceStore({ file });
    expect((await second.traces()).map((s) => s.traceId.slice(-1))).toEqual(["2", "1"]);
    second.add([span(1, { spanId: "00000000000000a2", status: 2 })]);
    await second.close();
    const reader = sqliteTraceStore({ file, readOnly: true });
    expect(await reader.traces({ status: "error" })).toMatchObject([{ spans: 2, errors: 1 }]);
    await reader.close();
  });

  it("writes spans when it flushes, not when they are added", async () => {
    const store = sqliteTraceStore({ file, flushMs: 60_000 });
    store.add([span(1)]);
    const reader = sqliteTraceStore({ file, readOnly: true });
    expect(await reader.traces()).toEqual([]);
    await store.flush();
    expect(await reader.traces()).toHaveLength(1);
    await reader.close();
    await store.close();
  });

  it("holds unsampled spans in memory only, and writes them once their trace is kept", async () => {
    const store = sqliteTraceStore({ file, slowMs: 1000 });
    store.add([span(1, { sampled: false })]);
    await store.flush();
    const reader = sqliteTraceStore({ file, readOnly: true });
    expect(await reader.trace(span(1).traceId)).toEqual([]);
    store.add([span(1, { spanId: "00000000000000a2", sampled: false, status: 2 })]);
    await store.flush();
    expect(await reader.trace(span(1).traceId)).toHaveLength(2);
    await reader.close();
    await store.close();
  });

  it("is shared by two writing processes and read meanwhile", { timeout: 60_000 }, async () => {
    const here = sqliteTraceStore({ file, flushMs: 1 });
    here.add([span(1)]);
    await here.flush();
    const child = spawn(process.execPath, ["--import", "tsx", writer, file, "1000", "300"], {
      cwd: resolve(import.meta.dirname, "../../.."),
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    let done = false;
    void exited.then(() => (done = true));

    const reader = sqliteTraceStore({ file, readOnly: true });
    let seen = 0;
    let reads = 0;
    for (let t = 2; !done || t < 300; t++) {
      if (t < 300) here.add([span(t)]);
      if (t % 10 === 0) await here.flush();
      const count = reader.stats().traces;
      expect(count).toBeGreaterThanOrEqual(seen);
      seen = count;
      reads += 1;
      await new Promise((r) => setImmediate(r));
    }
    expect(await exited, out).toBe(0);
    await here.close();
    expect(reads).toBeGreaterThan(0);
    const all = await reader.traces({ limit: 1000 });
    expect(all).toHaveLength(599);
    expect(new Set(all.map((s) => s.services[0]))).toEqual(new Set(["orders", "child"]));
    await reader.close();
  });

  it("keeps its file within maxBytes, deleting the oldest traces", { timeout: 60_000 }, async () => {
    const maxBytes = 512 * 1024;
    const store = sqliteTraceStore({ file, maxBytes });
    const padding = "p".repeat(4000);
    // About 20 times the bound, flushed as it goes.
    for (let t = 1; t <= 2500; t++) {
      store.add([span(t, { attributes: { padding } })]);
      if (t % 50 === 0) await store.flush();
    }
    await store.flush();
    expect(store.stats().bytes).toBeLessThanOrEqual(maxBytes);
    await store.close();
    // Closing checkpoints the WAL into the file and removes it.
    expect(statSync(file).size).toBeLessThanOrEqual(maxBytes);
    const reader = sqliteTraceStore({ file, readOnly: true });
    const kept = await reader.traces({ limit: 10_000 });
    expect(kept.length).toBeGreaterThan(50);
    expect(kept[0]?.traceId).toBe(span(2500).traceId);
    expect(await reader.trace(span(1).traceId)).toEqual([]);
    await reader.close();
  });

  it("refuses to read a file that is missing or not a trace file", () => {
    expect(() => sqliteTraceStore({ file, readOnly: true })).toThrow(
      expect.objectContaining({ code: "NOT_FOUND", message: `no trace file at ${file}` }),
    );
    const other = join(dir, "other.sqlite");
    const db = new Database(other);
    db.exec("CREATE TABLE t (x)");
    db.close();
    expect(() => sqliteTraceStore({ file: other, readOnly: true })).toThrow(/is not a Flotilla trace file/);
    const text = join(dir, "text.sqlite");
    writeFileSync(text, "hello");
    expect(() => sqliteTraceStore({ file: text, readOnly: true })).toThrow();
  });
});
