/**
 * The ops port's address in a NATS registry, and its saga routes: the shop's services in one runApp over
 * a real nats-server with an ops port, a process without sagas in another (ops port, no saga), and one
 * without an ops port at all.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEdgeKeysFile } from "@flotilla/auth";
import type { InstanceInfo } from "@flotilla/core";
import { natsRegistry } from "@flotilla/nats";
import { freePort, type NatsServerHandle, startNatsServer, waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../../../examples/shop/src/app.js";
import { ADDRESS, CARDS, ShopClient } from "../../../examples/shop/test/support/shop-client.js";
import { type RunningApp, runApp } from "../src/index.js";

// Everything but the two services run apart below.
const SHOP = shopApp.services.map((s) => s.name).filter((s) => s !== "identity" && s !== "recommendations");

describe("ops addresses in the registry, and the ops port's sagas", () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-ops-sagas-"));
  let nats: NatsServerHandle;
  let shop: RunningApp;
  let identity: RunningApp;
  let recommendations: RunningApp;
  let registry: ReturnType<typeof natsRegistry>;

  beforeAll(async () => {
    nats = await startNatsServer();
    const edgeKeys = join(dir, "edge-keys.json");
    await createEdgeKeysFile(edgeKeys);
    const common = (name: string) => ({
      transport: nats.url,
      registry: nats.url,
      edgeKeys,
      dataDir: join(dir, name),
      tracing: false as const,
      listenHost: "127.0.0.1",
    });
    shop = await runApp(shopApp, { ...common("shop"), services: SHOP, opsPort: 0, gatewayPort: 0 });
    identity = await runApp(shopApp, { ...common("identity"), services: ["identity"], opsPort: 0 });
    recommendations = await runApp(shopApp, { ...common("recommendations"), services: ["recommendations"] });
    registry = natsRegistry(new URL(nats.url));
  }, 60_000);
  afterAll(async () => {
    await registry?.close();
    await recommendations?.stop();
    await identity?.stop();
    await shop?.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const registered = async (service: string): Promise<InstanceInfo> => {
    let found: InstanceInfo | undefined;
    await waitFor(
      () => {
        found = registry.instances(service).find((i) => i.ready);
        return found !== undefined;
      },
      { timeoutMs: 20_000, what: `${service} in the registry` },
    );
    return found as InstanceInfo;
  };

  it("registers each instance with its process's ops URL, and none for a process without an ops port", async () => {
    expect(shop.ops?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await registered("orders")).endpoint).toBe(shop.ops?.url);
    expect((await registered("payments")).endpoint).toBe(shop.ops?.url);
    expect((await registered("identity")).endpoint).toBe(identity.ops?.url);
    const plain = await registered("recommendations");
    expect(plain.endpoint).toBeUndefined();
    expect("endpoint" in plain).toBe(false);
    expect((await fetch(`${shop.ops?.url}/readyz`)).status).toBe(200);
  });

  it("lists and shows sagas without their input or outputs, filters by status, and refuses bad queries", async () => {
    const client = new ShopClient(shop.url ?? "");
    const demo = await client.signIn("demo@flotilla.dev", "demo-password");
    const place = async (card: string) => {
      const placed = await client.placeOrder(demo, {
        items: [{ productId: "prod-french-press", quantity: 1 }],
        payment: { card },
        shipping: ADDRESS,
      });
      expect(placed.status).toBe(202);
      return placed.body as { orderId: string };
    };
    const ok = await place(CARDS.ok);
    const declined = await place(CARDS.declined);
    const ops = shop.ops?.url ?? "";
    const list = async (query = "") => {
      const res = await fetch(`${ops}/sagas${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as { sagas: Array<Record<string, unknown>>; counts: Array<Record<string, unknown>> };
    };
    await expect
      .poll(async () => (await list("?status=compensated")).sagas.map((s) => s.id), { timeout: 30_000 })
      .toContain(declined.orderId);
    await expect
      .poll(async () => (await list("?status=completed")).sagas.map((s) => s.id), { timeout: 30_000 })
      .toContain(ok.orderId);

    const all = await list("?type=checkout&limit=10");
    const summary = all.sagas.find((s) => s.id === ok.orderId);
    expect(summary).toMatchObject({ service: "orders", type: "checkout", status: "completed", failure: null });
    expect(summary).not.toHaveProperty("input");
    expect(all.counts).toContainEqual({
      service: "orders",
      type: "checkout",
      version: 1,
      status: "compensated",
      count: 1,
    });
    expect((await list("?type=no-such-saga")).sagas).toEqual([]);

    const res = await fetch(`${ops}/sagas/${declined.orderId}`);
    expect(res.status).toBe(200);
    const { saga } = (await res.json()) as { saga: Record<string, unknown> };
    expect(saga).toMatchObject({
      id: declined.orderId,
      service: "orders",
      status: "compensated",
      stepsDone: ["reserve"],
    });
    expect(saga).not.toHaveProperty("input");
    expect(saga).not.toHaveProperty("outputs");
    expect(JSON.stringify(saga)).not.toContain(CARDS.declined);
    const entries = (saga.history as Array<{ entry: string; step: string | null }>).map((h) => `${h.entry}:${h.step}`);
    expect(entries).toEqual([
      "started:null",
      "step-succeeded:reserve",
      "step-failed:charge",
      "compensating:charge",
      "compensated:reserve",
      "compensated-all:null",
    ]);

    expect((await fetch(`${ops}/sagas/no-such-order`)).status).toBe(404);
    expect((await fetch(`${ops}/sagas?status=lost`)).status).toBe(400);
    expect((await fetch(`${ops}/sagas?limit=0`)).status).toBe(400);
    // A process whose services run no saga has none to show.
    expect((await fetch(`${identity.ops?.url}/sagas`)).status).toBe(404);
    expect((await fetch(`${ops}/sagas?service=identity`)).status).toBe(404);
  }, 60_000);
});

describe("runApp's failure cleanup", () => {
  it("closes the ops port it opened when the host fails to start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-ops-cleanup-"));
    const port = await freePort();
    try {
      // Nothing listens on port 1: the transport cannot connect, after the ops port is bound.
      await expect(
        runApp(shopApp, { dataDir: dir, transport: "nats://127.0.0.1:1", opsPort: port, listenHost: "127.0.0.1" }),
      ).rejects.toThrow();
      await new Promise<void>((resolve, reject) => {
        const probe = createServer();
        probe.once("error", reject);
        probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
