/**
 * `flotilla up` runs the shop split with one command (real nats-server, PostgreSQL, one process per
 * unit, the legacy monolith as a companion) and keeps it serving: an order goes through the saga, a
 * SIGKILLed instance is replaced, and rolling restarts and scaling 1 → 2 → 1 fail no request.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, signIn, until } from "../../cli/test/split-helpers.js";
import { callSupervisor, type SupervisorStatus } from "../src/index.js";
import { alive, flotilla, freshGet, startUp, type Up } from "./helpers.js";

let up: Up;
let dataDir: string;
const ps = async () => (await callSupervisor(dataDir, "GET", "/status")) as SupervisorStatus;
const unit = (status: SupervisorStatus, name: string) => status.units.find((u) => u.name === name);

/** Reads products through the supervisor's port (two loops, one connection per request) until `work` ends. */
async function underLoad(work: () => Promise<void>): Promise<{ ok: number; failed: string[] }> {
  let done = false;
  const failed: string[] = [];
  let ok = 0;
  const loop = async () => {
    while (!done) {
      const answer = await freshGet(`${up.gatewayUrl}/api/v1/products?limit=3`);
      if (answer.status === 200) ok++;
      else failed.push(`${answer.status} ${answer.error ?? ""}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const loops = [loop(), loop()];
  try {
    await work();
  } finally {
    done = true;
    await Promise.all(loops);
  }
  return { ok, failed };
}

describe("flotilla up: the shop split under a supervisor", () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-up-"));
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as an unprivileged user who must enter it
    const legacyPort = await freePort();
    const legacy = `env PORT=${legacyPort} LEGACY_DB=${join(dataDir, "legacy.db")} node --import tsx examples/legacy-monolith/src/main.ts`;
    up = await startUp([
      "--app",
      "examples/shop/src/app.ts",
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--no-autoscale",
      "--companion",
      `legacy=${legacy}`,
      "--env",
      `FLOTILLA_UPSTREAM_LEGACY=http://127.0.0.1:${legacyPort}`,
      "--env",
      "FLOTILLA_RATE_LIMIT=1000000/60",
      "--env",
      "FLOTILLA_GATEWAY_CACHE=off",
    ]);
  }, 150_000);

  afterAll(async () => {
    if (up) {
      const pids = (await ps().catch(() => undefined))?.units.flatMap((u) => u.instances.map((i) => i.pid)) ?? [];
      up.child.kill("SIGINT");
      expect(await up.closed).toBe(0);
      expect(pids.filter(alive)).toEqual([]);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("serves the shop; an order goes through the saga", { timeout: 60_000 }, async () => {
    const products = await http(`${up.gatewayUrl}/api/v1/products?limit=2`);
    expect(products.status).toBe(200);
    const [a] = (products.body as { items: { id: string }[] }).items;
    const auth = await signIn({ url: up.gatewayUrl } as Parameters<typeof signIn>[0]);
    const placed = await http(`${up.gatewayUrl}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify({
        items: [{ productId: a?.id, quantity: 1 }],
        payment: { card: "4242424242424242" },
        shipping: { name: "Ada", street: "1 Main St", city: "Oslo", country: "NO" },
      }),
    });
    expect(placed.status).toBe(202);
    const { orderId } = placed.body as { orderId: string };
    await until(
      async () => {
        const now = await http(`${up.gatewayUrl}/api/v1/orders/${orderId}`, { headers: auth });
        return ["confirmed", "shipped"].includes((now.body as { status: string }).status);
      },
      30_000,
      "the order to be confirmed",
    );
    const status = await ps();
    expect(status.database).toContain("PostgreSQL");
    expect(status.units.map((u) => [u.name, u.health])).toEqual([
      ["edge", "ok"],
      ["browse", "ok"],
      ["orders", "ok"],
      ["fulfilment", "ok"],
      ["notifications", "ok"],
    ]);
    expect(status.companions).toMatchObject([{ name: "legacy", running: true, restarts: 0 }]);
  });

  it("replaces a SIGKILLed instance, and requests keep working", { timeout: 120_000 }, async () => {
    const victim = unit(await ps(), "browse")?.instances[0]?.pid ?? -1;
    process.kill(victim, "SIGKILL");
    await until(
      async () => {
        const browse = unit(await ps(), "browse");
        return browse?.restarts === 1 && browse.instances.some((i) => i.state === "ready" && i.pid !== victim);
      },
      90_000,
      "browse to be replaced",
      () => up.output().slice(-4_000),
      500,
    );
    const text = await flotilla(["ps", "--data-dir", dataDir]);
    expect(text.out).toMatch(/browse\s+ok\s+1\/1\s+1\.\.4\s+1/);
    const after = await Promise.all(Array.from({ length: 5 }, () => freshGet(`${up.gatewayUrl}/api/v1/products`)));
    expect(after.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it("restarts the gateway unit and a service unit rolling with no failed request", { timeout: 240_000 }, async () => {
    const before = await ps();
    const { ok, failed } = await underLoad(async () => {
      expect((await flotilla(["restart", "edge", "--data-dir", dataDir])).code).toBe(0);
      expect((await flotilla(["restart", "browse", "--data-dir", dataDir])).code).toBe(0);
    });
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    const after = await ps();
    for (const name of ["edge", "browse"]) {
      const old = unit(before, name)?.instances.map((i) => i.pid);
      const now = unit(after, name)?.instances ?? [];
      expect(now.map((i) => i.state)).toEqual(["ready"]);
      expect(old).not.toContain(now[0]?.pid);
    }
  });

  it("scales edge 1 → 2 → 1 with no failed request", { timeout: 180_000 }, async () => {
    const { ok, failed } = await underLoad(async () => {
      const upward = await flotilla(["scale", "edge=2", "--data-dir", dataDir]);
      expect(upward.out).toContain("edge: 1 → 2");
      expect(unit(await ps(), "edge")?.instances.map((i) => i.state)).toEqual(["ready", "ready"]);
      await new Promise((r) => setTimeout(r, 1_000)); // both instances take connections
      const downward = await flotilla(["scale", "edge=1", "--data-dir", dataDir]);
      expect(downward.out).toContain("edge: 2 → 1");
    });
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    const status = await ps();
    expect(unit(status, "edge")?.instances).toHaveLength(1);
    expect(status.decisions.map((d) => [d.unit, d.from, d.to, d.signal])).toEqual([
      ["edge", 1, 2, "manual"],
      ["edge", 2, 1, "manual"],
    ]);
    const refused = await flotilla(["scale", "edge=7", "--data-dir", dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("[FLOTILLA_SUPERVISOR_SCALE_OUT_OF_RANGE]");
  });
});
