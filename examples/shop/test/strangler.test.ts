/**
 * @module The strangler script, run as a user runs it (a process of its own): every step of moving the
 * shop's reviews out of the legacy monolith, and a seeded difference that the shadow step must catch.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunningApp } from "@flotilla/app";
import { type LegacyMonolith, startLegacyMonolith } from "@flotilla/example-legacy-monolith";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startShop } from "../src/app.js";
import { type Json, ShopClient } from "./support/shop-client.js";

const SHOP_DIR = fileURLToPath(new URL("..", import.meta.url));

/** Runs the script to its end: its exit code and the JSON reports it printed. */
function strangle(args: string[]): Promise<{ code: number | null; reports: Json[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/strangle-reviews.ts", "--json", ...args], {
      cwd: SHOP_DIR,
      env: { ...process.env, FLOTILLA_LOG_LEVEL: "silent" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const reports = stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Json);
      resolve({ code, reports, stderr });
    });
  });
}

describe("npm run strangle: the reviews moved out of the legacy monolith", () => {
  it("walks every step with no difference and no lost request, and ends with the service alone", async () => {
    const { code, reports, stderr } = await strangle(["--reads", "60", "--writes", "6"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(reports.at(-1)).toEqual({ done: true });
    const steps: Record<string, Json> = Object.fromEntries(reports.filter((r) => r.step).map((r) => [r.step, r]));
    expect(Object.keys(steps)).toEqual([
      "backfill",
      "shadow",
      "shift-10",
      "shift-50",
      "shift-100",
      "move-writes",
      "retire",
    ]);
    for (const report of Object.values(steps)) expect(report.problems, report.step).toEqual([]);
    expect(steps.backfill.sync).toMatchObject({ imported: 10, behind: 0, writesTo: "legacy" });
    // Shadowing at 0%: the legacy serves every read, and every one was compared with the service's answer.
    expect(steps.shadow.reads).toEqual({ sent: 60, servedBy: { legacy: 60 }, lost: 0 });
    expect(steps.shadow.comparison).toMatchObject({ different: 0, shadowFailed: 0 });
    expect(steps.shadow.comparison.compared + steps.shadow.comparison.dropped).toBe(60);
    expect(steps["shift-50"].reads.servedBy).toEqual({ legacy: expect.any(Number), service: expect.any(Number) });
    expect(steps["shift-100"].reads.servedBy).toEqual({ service: 60 });
    expect(steps["shift-100"].comparison.compared).toBeGreaterThan(0);
    // Writes: forwarded to the legacy (copied at once) until they moved, then stored by the service alone.
    expect(steps["shift-100"].sync).toMatchObject({ ownReviews: 0, conflicts: 0 });
    expect(steps["move-writes"].sync).toMatchObject({ writesTo: "service", enabled: false, ownReviews: 6 });
    expect(steps.retire.sync).toMatchObject({ ownReviews: 12, conflicts: 0 });
    expect(steps.retire.reads).toEqual({ sent: 60, servedBy: { service: 60 }, lost: 0 });
    expect(steps.retire.writes).toMatchObject({ sent: 6, lost: 0 });
  }, 60_000);
});

describe("npm run strangle against a shop whose copy differs from the legacy", () => {
  let dataDir: string;
  let legacy: LegacyMonolith;
  let shop: RunningApp;
  let token: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-strangle-diff-"));
    legacy = await startLegacyMonolith({ dbFile: join(dataDir, "legacy-reviews.db") });
    shop = await startShop({ port: 0, listenHost: "127.0.0.1", dataDir, legacyUrl: legacy.url });
    const client = new ShopClient(shop.url as string);
    const admin = await client.signIn("admin@flotilla.dev", "admin-password");
    token = admin.authorization?.slice("Bearer ".length) ?? "";
    expect((await client.send("POST", "/api/v1/admin/reviews/sync", admin, {})).body).toMatchObject({ behind: 0 });
    // The deliberate difference: one review's rating changed in the service's copy only (French press: 4 and 3).
    const db = new Database(join(dataDir, "reviews.sqlite"));
    const changed = db
      .prepare("UPDATE reviews SET rating = 1 WHERE product_id = ? AND rating = 3")
      .run("prod-french-press");
    db.close();
    expect(changed.changes).toBe(1);
  });
  afterAll(async () => {
    await shop?.stop();
    await legacy?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("reports the difference at the shadow step, sends reads back to the legacy, and exits 1", async () => {
    const { code, reports } = await strangle(["--url", shop.url as string, "--token", token, "--reads", "45"]);
    expect(code).toBe(1);
    expect(reports.map((r) => r.step ?? "end")).toEqual(["backfill", "shadow", "end"]);
    expect(reports.at(-1)).toEqual({ done: false });
    const shadow = reports[1];
    expect(shadow.comparison.different).toBeGreaterThan(0);
    expect(shadow.problems).toContain(`${shadow.comparison.different} answers differ between legacy and service`);
    const difference = shadow.comparison.differences[0];
    expect(difference).toMatchObject({
      path: "/api/v1/products/prod-french-press/reviews",
      served: { variant: "legacy", status: 200 },
      shadow: { variant: "service", status: 200 },
    });
    expect(difference.paths).toEqual(expect.arrayContaining(["averageRating", "items.1.rating"]));
    // Rolled back: every read is the legacy's again.
    const res = await fetch(`${shop.url}/api/v1/products/prod-french-press/reviews`);
    expect(res.headers.get("flotilla-variant")).toBe("legacy");
    const direct = (await (await fetch(`${legacy.url}/products/prod-french-press/reviews`)).json()) as Json;
    expect((await res.json()) as Json).toEqual(direct);
  }, 60_000);
});
