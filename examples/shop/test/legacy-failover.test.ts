/** @module Two legacy monolith processes behind the shop's gateway: one SIGKILLed, the reviews keep coming from the other. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunningApp } from "@flotilla/app";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startShop } from "../src/app.js";
import { type Json, ShopClient } from "./support/shop-client.js";

const MAIN = fileURLToPath(new URL("../../legacy-monolith/src/main.ts", import.meta.url));

/** The monolith as its own process (`npm start -w @flotilla/example-legacy-monolith`), on a free port. */
function spawnLegacy(dbFile: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: { ...process.env, PORT: "0", LEGACY_DB: dbFile },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url !== undefined) resolve({ url, child });
    });
    child.once("exit", (code) => reject(new Error(`the monolith exited with ${code} before listening`)));
  });
}

async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await gone;
}

describe("the legacy monolith on two instances", () => {
  let dir: string;
  let a: { url: string; child: ChildProcess };
  let b: { url: string; child: ChildProcess };
  let shop: RunningApp;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-legacy-two-"));
    [a, b] = await Promise.all([spawnLegacy(join(dir, "a.db")), spawnLegacy(join(dir, "b.db"))]);
    process.env.FLOTILLA_UPSTREAM_LEGACY = `${a.url},${b.url}`;
    shop = await startShop({ port: 0, listenHost: "127.0.0.1", dataDir: join(dir, "shop") });
  });
  afterAll(async () => {
    delete process.env.FLOTILLA_UPSTREAM_LEGACY;
    await shop?.stop();
    await killHard(a.child);
    await killHard(b.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps answering every read after one instance is SIGKILLed, and shows that instance unhealthy", async () => {
    const reviews = `${shop.url}/api/v1/products/prod-french-press/reviews`;
    for (let i = 0; i < 4; i++) expect((await fetch(reviews)).status).toBe(200);
    await killHard(a.child);
    for (let i = 0; i < 20; i++) {
      const res = await fetch(reviews);
      expect(res.status).toBe(200);
      expect(((await res.json()) as Json).count).toBe(2);
    }
    const admin = await new ShopClient(shop.url as string).signIn("admin@flotilla.dev", "admin-password");
    const metrics = await (await fetch(`${shop.url}/metrics`, { headers: admin })).text();
    // Refused requests count as failed checks: the dead instance is out without waiting for the next check.
    expect(metrics).toContain(`flotilla_upstream_target_healthy{upstream="legacy",target="${a.url}"} 0`);
    expect(metrics).toContain(`flotilla_upstream_target_healthy{upstream="legacy",target="${b.url}"} 1`);
    expect(metrics).toMatch(
      new RegExp(`flotilla_upstream_requests_total\\{upstream="legacy",target="${b.url}",outcome="200"\\} \\d+`),
    );
  });
});
