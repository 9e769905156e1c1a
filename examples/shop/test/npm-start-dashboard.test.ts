/**
 * `npm start`'s shop (src/main.ts as its own process, on a free port) serves the dashboard at
 * `/_flotilla`: the page to anyone, its API to the shop's admin only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShopClient } from "./support/shop-client.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

describe("npm start: the embedded shop's dashboard", () => {
  let child: ChildProcess;
  let dataDir: string;
  let url: string;
  let dashboard: string;
  let out = "";

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-npm-start-"));
    child = spawn(process.execPath, ["--import", "tsx", MAIN], {
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", FLOTILLA_DATA_DIR: dataDir, FLOTILLA_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d: Buffer) => (out += d));
    child.stderr?.on("data", (d: Buffer) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        const printed = /dashboard on (http:\/\/\S+\/_flotilla)/.exec(out);
        if (printed === null) return;
        dashboard = printed[1] ?? "";
        url = /listening on (http:\/\/\S+)/.exec(out)?.[1] ?? "";
        resolve();
      };
      child.stdout?.on("data", check);
      child.once("exit", (code) => reject(new Error(`the shop exited with ${code}:\n${out}`)));
    });
  }, 90_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await gone;
    }
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it("serves the page, and its API to the admin only", { timeout: 30_000 }, async () => {
    expect(dashboard).toBe(`${url}/_flotilla`);
    expect((await fetch(dashboard)).status).toBe(200);
    const topology = `${url}/_flotilla/api/topology`;
    expect((await fetch(topology)).status).toBe(401);
    const client = new ShopClient(url);
    const demo = await client.signIn("demo@flotilla.dev", "demo-password");
    expect((await fetch(topology, { headers: demo })).status).toBe(403);
    const admin = await client.signIn("admin@flotilla.dev", "admin-password");
    const answer = await fetch(topology, { headers: admin });
    expect(answer.status).toBe(200);
    const services = ((await answer.json()) as { services: { name: string; health: string }[] }).services;
    expect(services.find((s) => s.name === "catalog")?.health).toBe("up");
  });
});
