/**
 * The dashboard's Sagas view over its API: the embedded shop (sagas read in place), and the shop split
 * over a real nats-server (orders' sagas read through the ops port its instance registered).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { createEdgeKeysFile } from "@flotilla/auth";
import { MemoryRegistry } from "@flotilla/core";
import { type NatsServerHandle, startNatsServer } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../src/app.js";
import { ADDRESS, CARDS, type Headers, type Json, ShopClient } from "./support/shop-client.js";

async function api(url: string, auth: Headers, path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}/_flotilla/api/${path}`, { headers: auth });
  return { status: res.status, body: await res.json() };
}

/** Places an order with `card` and answers its id (the saga's id). */
async function place(client: ShopClient, buyer: Headers, card: string): Promise<string> {
  const placed = await client.placeOrder(buyer, {
    items: [{ productId: "prod-french-press", quantity: 1 }],
    payment: { card },
    shipping: ADDRESS,
  });
  expect(placed.status).toBe(202);
  return placed.body.orderId as string;
}

describe("the Sagas view, embedded", () => {
  let shop: RunningApp;
  let dataDir: string;
  let url: string;
  let admin: Headers;
  let completed: string;
  let compensated: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-sagas-"));
    shop = await runApp(shopApp, {
      dataDir,
      gatewayPort: 0,
      listenHost: "127.0.0.1",
      registry: new MemoryRegistry(),
      dashboard: { refreshMs: 200 },
    });
    url = shop.url ?? "";
    const client = new ShopClient(url);
    admin = await client.signIn("admin@flotilla.dev", "admin-password");
    const demo = await client.signIn("demo@flotilla.dev", "demo-password");
    completed = await place(client, demo, CARDS.ok);
    compensated = await place(client, demo, CARDS.declined);
    await client.settled(demo, completed);
    await client.settled(demo, compensated);
  }, 60_000);
  afterAll(async () => {
    await shop?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is a view of the dashboard, for admins only", async () => {
    const { body } = await api(url, admin, "panels");
    expect(body.panels).toContainEqual({ id: "sagas", title: "Sagas" });
    expect((await fetch(`${url}/_flotilla/api/sagas`)).status).toBe(401);
  });

  it("lists the sagas with their service, filters by status and type, and counts them", async () => {
    await expect
      .poll(async () => (await api(url, admin, "sagas?status=completed")).body.sagas.map((s: Json) => s.id), {
        timeout: 30_000,
      })
      .toContain(completed);
    const all = await api(url, admin, "sagas");
    expect(all.status).toBe(200);
    expect(all.body.unreadable).toEqual([]);
    const ids = all.body.sagas.map((s: Json) => s.id);
    expect(ids).toEqual(expect.arrayContaining([completed, compensated]));
    expect(all.body.sagas.find((s: Json) => s.id === compensated)).toMatchObject({
      service: "orders",
      type: "checkout",
      status: "compensated",
      failure: { step: "charge", code: "CARD_DECLINED" },
    });
    expect(all.body.counts).toContainEqual({
      service: "orders",
      type: "checkout",
      version: 1,
      status: "compensated",
      count: 1,
    });

    const onlyCompensated = await api(url, admin, "sagas?status=compensated&type=checkout");
    expect(onlyCompensated.body.sagas.map((s: Json) => s.id)).toEqual([compensated]);
    expect((await api(url, admin, "sagas?type=refund")).body.sagas).toEqual([]);
    expect((await api(url, admin, "sagas?status=lost")).status).toBe(400);
  });

  it("shows a compensated saga's timeline: sends, the failure, the compensation, with times", async () => {
    const { status, body } = await api(url, admin, `sagas/${compensated}`);
    expect(status).toBe(200);
    expect(body).not.toHaveProperty("input");
    expect(body).not.toHaveProperty("outputs");
    expect(JSON.stringify(body)).not.toContain(CARDS.declined);
    const kinds = body.timeline.map((e: Json) => `${e.kind}:${e.step ?? ""}`);
    expect(kinds).toEqual([
      "started:",
      "sent:reserve",
      "succeeded:reserve",
      "sent:charge",
      "failed:charge",
      "compensating:charge",
      "sent:reserve",
      "compensated:reserve",
      "compensated-all:",
    ]);
    const compensation = body.timeline.find((e: Json) => e.kind === "compensated");
    expect(compensation).toMatchObject({ phase: "compensate", label: "Compensation of reserve succeeded" });
    expect(body.timeline.find((e: Json) => e.kind === "failed")).toMatchObject({ code: "CARD_DECLINED" });
    const times = body.timeline.map((e: Json) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const entry of body.timeline) expect(entry.sinceMs).toBeGreaterThanOrEqual(0);
    expect((await api(url, admin, "sagas/no-such-saga")).status).toBe(404);
  });

  it("sends counts and the newest sagas on the live topic", async () => {
    const res = await fetch(`${url}/_flotilla/api/events?topics=sagas`, { headers: admin });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n\n")) text += (await reader.read()).value ?? "";
    await reader.cancel();
    expect(text).toContain("event: sagas");
    const data = JSON.parse(
      text
        .split("\n")
        .find((l) => l.startsWith("data: "))
        ?.slice(6) ?? "{}",
    );
    expect(data.newest.map((s: Json) => s.id)).toEqual(expect.arrayContaining([completed, compensated]));
    expect(data.counts.length).toBeGreaterThan(0);
    expect(data.unreadable).toEqual([]);
  });
});

describe("the Sagas view, split over NATS", () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-sagas-split-"));
  let nats: NatsServerHandle;
  let services: RunningApp;
  let edge: RunningApp;
  let url: string;
  let admin: Headers;
  let demo: Headers;
  let client: ShopClient;
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
    // Orders and its saga's participants here, with an ops port; the gateway and its dashboard apart.
    const apart = new Set(["identity", "recommendations", "reviews"]);
    services = await runApp(shopApp, {
      ...common("services"),
      services: shopApp.services.map((s) => s.name).filter((s) => !apart.has(s)),
      opsPort: 0,
    });
    edge = await runApp(shopApp, {
      ...common("edge"),
      services: [...apart],
      gatewayPort: 0,
      dashboard: { refreshMs: 200 },
    });
    url = edge.url ?? "";
    client = new ShopClient(url);
    admin = await client.signIn("admin@flotilla.dev", "admin-password");
    demo = await client.signIn("demo@flotilla.dev", "demo-password");
  }, 90_000);
  afterAll(async () => {
    await edge?.stop();
    await services?.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists orders' sagas read through the ops port of its registered instance, and shows a timeline", async () => {
    expect(edge.host.services).not.toContain("orders");
    const compensated = await place(client, demo, CARDS.declined);
    await client.settled(demo, compensated);
    await expect
      .poll(async () => (await api(url, admin, "sagas?status=compensated")).body.sagas.map((s: Json) => s.id), {
        timeout: 30_000,
      })
      .toEqual([compensated]);
    const listing = await api(url, admin, "sagas");
    expect(listing.body.unreadable).toEqual([]);
    expect(listing.body.sagas[0]).toMatchObject({ id: compensated, service: "orders" });

    const { status, body } = await api(url, admin, `sagas/${compensated}`);
    expect(status).toBe(200);
    expect(body.service).toBe("orders");
    expect(body.timeline.map((e: Json) => e.kind)).toContain("compensated");
    expect(JSON.stringify(body)).not.toContain(CARDS.declined);
  }, 60_000);

  it("names orders as unreadable while no instance of it can be asked", async () => {
    await services.stop();
    await expect
      .poll(async () => (await api(url, admin, "sagas")).body.unreadable.map((u: Json) => u.service), {
        timeout: 30_000,
      })
      .toEqual(["orders"]);
    const { body } = await api(url, admin, "sagas");
    expect(body.sagas).toEqual([]);
    expect(body.unreadable[0].reason).toMatch(/no ready instance/);
  }, 60_000);
});
