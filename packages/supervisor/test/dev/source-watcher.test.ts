import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SourceWatcher } from "../../src/dev/index.js";

/** Polls (bounded) until `predicate` holds. */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the source watcher (real files, real fs events)", () => {
  let dir: string;
  let watcher: SourceWatcher;
  let batches: string[][];
  let errors: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-watch-"));
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    mkdirSync(join(dir, "node_modules"));
    batches = [];
    errors = [];
    watcher = new SourceWatcher({
      debounceMs: 100,
      onChange: (paths) => batches.push(paths.sort()),
      onError: (d) => errors.push(d),
    });
  });
  afterEach(() => {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a sentinel file and waits for its batch: every batch before it has been delivered. */
  async function settle(): Promise<string[][]> {
    const sentinel = join(dir, "a", `sentinel-${batches.length}`);
    writeFileSync(sentinel, "");
    await until(() => batches.some((b) => b.includes(sentinel)), "the sentinel's batch");
    return batches.filter((b) => !b.includes(sentinel));
  }

  it("reports a burst of writes to one file once, after the burst", async () => {
    watcher.watch([join(dir, "a")]);
    const file = join(dir, "a", "service.ts");
    for (let i = 0; i < 5; i++) writeFileSync(file, `export const n = ${i};\n`);
    await until(() => batches.length > 0, "the burst's batch");
    expect(batches).toEqual([[file]]);
    expect(await settle()).toEqual([[file]]);
  });

  it("sees a save by rename (write a temporary file, rename it over the original)", async () => {
    const file = join(dir, "b", "greeting.ts");
    writeFileSync(file, "1");
    watcher.watch([join(dir, "a"), join(dir, "b")]);
    writeFileSync(`${file}.tmp`, "2");
    renameSync(`${file}.tmp`, file);
    await until(() => batches.length > 0, "the rename's batch");
    expect(batches[0]).toContain(file);
  });

  it("stops watching a directory no longer listed, and never watches node_modules", async () => {
    watcher.watch([join(dir, "a"), join(dir, "b"), join(dir, "node_modules")]);
    expect(watcher.directories().sort()).toEqual([join(dir, "a"), join(dir, "b")]);
    watcher.watch([join(dir, "a")]);
    writeFileSync(join(dir, "b", "left.ts"), "");
    writeFileSync(join(dir, "node_modules", "dep.js"), "");
    expect(await settle()).toEqual([]);
  });

  it("ignores changes of node_modules, .git and .flotilla entries in a watched directory", async () => {
    watcher.watch([dir, join(dir, "a")]);
    mkdirSync(join(dir, ".git"));
    mkdirSync(join(dir, ".flotilla"));
    rmSync(join(dir, "node_modules"), { recursive: true });
    writeFileSync(join(dir, "package.json"), "{}");
    await until(() => batches.length > 0, "the manifest's batch");
    expect(batches).toEqual([[join(dir, "package.json")]]);
  });

  it("reports a directory it cannot watch and goes on with the others", async () => {
    watcher.watch([join(dir, "gone"), join(dir, "a")]);
    expect(errors).toEqual([join(dir, "gone")]);
    expect(watcher.directories()).toEqual([join(dir, "a")]);
  });
});
