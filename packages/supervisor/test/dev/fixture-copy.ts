/** @module The hot-reload fixture app copied into a temp dir that tests may edit, beside a link to the repository's node_modules. */
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const repositoryRoot = resolve(import.meta.dirname, "../../../..");
export const fixtureApp = resolve(import.meta.dirname, "fixtures/reload-app");

/** Copies of the fixture; `remove()` deletes them all. */
export class FixtureCopies {
  private readonly dirs: string[] = [];

  /** A fresh copy, with a package.json naming its app and node_modules linked to the repository's. */
  make(): string {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-dev-"));
    this.dirs.push(dir);
    cpSync(fixtureApp, dir, { recursive: true });
    symlinkSync(join(repositoryRoot, "node_modules"), join(dir, "node_modules"));
    writeFileSync(
      join(dir, "package.json"),
      `${JSON.stringify({ name: "reload-app", private: true, type: "module", flotilla: { app: "app.ts" } }, null, 2)}\n`,
    );
    return dir;
  }

  remove(): void {
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}
