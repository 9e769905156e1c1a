/** The dashboard's observed Topology edges, pub/sub map and Architecture fitness on the embedded shop, after a real checkout. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FitnessReport, type RunningApp, runApp } from "@flotilla/app";
import { MemoryRegistry } from "@flotilla/core";
import type { ObservedGraph } from "@flotilla/dashboard";
import { waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../src/app.js";
import { chainApp } from "./fixtures/chain-app.js";
import { ADDRESS, CARDS, type Headers, ShopClient } from "./support/shop-client.js";

describe("observed edges and fitness on the shop's dashboard", () => {
  let shop: RunningApp;
  let dataDir: string;
  let url: string;
  let admin: Headers;
  const saved = { delay: process.env.SHOP_DISPATCH_DELAY_MS, sweep: process.env.SHOP_DISPATCH_SWEEP_MS };
  const get = async (path: string) => {
    const res = await fetch(`${url}/_flotilla/api/${path}`, { headers: admin });
    expect(res.status, path).toBe(200);
    return res.json();
  };
  const edges = async () => (await get("topology/edges")) as ObservedGraph;
  beforeAll(async () => {
    process.env.SHOP_DISPATCH_DELAY_MS = "100";
    process.env.SHOP_DISPATCH_SWEEP_MS = "50";
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-graph-"));
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
    const placed = await client.placeOrder(demo, {
      items: [{ productId: "prod-french-press", quantity: 1 }],
      payment: { card: CARDS.ok },
      shipping: ADDRESS,
    });
    expect(placed.status).toBe(202);
    await client.settled(demo, placed.body.orderId as string, new Set(["shipped"]));
    // Spans reach the store a moment after their work: wait for the checkout's last hop, the dispatch.
    await waitFor(async () => (await edges()).events.some((e) => e.type === "shipping.ShipmentDispatched"), {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: "the dispatch's event edge",
    });
  }, 90_000);
  afterAll(async () => {
    await shop?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    for (const [name, value] of [
      ["SHOP_DISPATCH_DELAY_MS", saved.delay],
      ["SHOP_DISPATCH_SWEEP_MS", saved.sweep],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("draws the call and event edges the checkout made, with rates, errors and latency", async () => {
    const graph = await edges();
    const call = (from: string, to: string) => graph.calls.find((e) => e.from === from && e.to === to);
    expect(call("gateway", "orders")).toMatchObject({ via: "call", errors: 0, errorRatio: 0 });
    expect(call("gateway", "orders")?.actions).toContain("orders.createOrder");
    expect(call("orders", "catalog")).toMatchObject({ via: "call", actions: ["catalog.getProducts"] });
    // The saga's steps, sent as commands by the orders service's orchestrator.
    for (const participant of ["inventory", "payments", "shipping"]) {
      expect(call("orders", participant)?.via, participant).toBe("saga");
    }
    for (const edge of graph.calls) {
      expect(edge.perMinute).toBeGreaterThan(0);
      expect(edge.p95Ms).toBeGreaterThanOrEqual(edge.p50Ms);
    }
    const event = (from: string, to: string, type: string) =>
      graph.events.find((e) => e.from === from && e.to === to && e.type === type);
    expect(event("orders", "catalog", "orders.OrderPlaced")).toMatchObject({
      groups: ["catalog.sales.orderPlaced"],
      deliveries: 1,
      errors: 0,
    });
    expect(event("orders", "shipping", "orders.OrderConfirmed")?.deliveries).toBe(1);
    expect(event("shipping", "orders", "shipping.ShipmentDispatched")?.groups).toEqual(["orders.shipmentDispatched"]);
    expect(event("orders", "notifications", "orders.OrderStatusChanged")?.perMinute).toBeGreaterThan(0);
    // The topology says the edges are there to follow.
    expect(await get("topology")).toMatchObject({ observed: true });
  });

  it("maps who publishes and consumes each event type, with the shop's real mismatches in words", async () => {
    const graph = await edges();
    const entry = (type: string) => graph.pubsub.find((e) => e.type === type);
    expect(entry("orders.OrderPlaced")).toMatchObject({
      declaredBy: "orders",
      publishers: [{ service: "orders", published: 1 }],
      consumers: [{ service: "catalog", group: "catalog.sales.orderPlaced", deliveries: 1, declared: true }],
      mismatches: [],
    });
    // No service subscribes to the payments service's PaymentCharged: published by the checkout, consumed by no one.
    expect(entry("payments.PaymentCharged")?.mismatches).toEqual([
      {
        kind: "published-never-consumed",
        text: "published once by payments, consumed by no one: no service subscribes to it",
      },
    ]);
    // Declared subscriptions to an event no one published in the window are flagged too.
    expect(entry("identity.UserUpdated")?.mismatches.map((m) => m.kind)).toEqual(["consumed-never-published"]);
  });

  it("finds no anti-pattern in the shop's checkout, and says it watches its deploys", async () => {
    const report = (await get("fitness")) as FitnessReport;
    expect(report.traces).toBeGreaterThan(0);
    expect(report.deploysAssessed).toBe(true);
    // The longest synchronous chain of a checkout is gateway → orders → catalog: two hops, within bounds.
    expect(report.findings).toEqual([]);
  });
});

describe("fitness findings of an app that has them", () => {
  let app: RunningApp;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-chain-"));
    app = await runApp(chainApp, {
      dataDir,
      gatewayPort: 0,
      listenHost: "127.0.0.1",
      registry: new MemoryRegistry(),
      // Open to anyone: a test app with no identity service.
      dashboard: { policies: [] },
    });
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("finds the chain longer than two hops and the chatty pair, each with the trace that shows it", async () => {
    const res = await fetch(`${app.url}/chain`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ depth: 4 });
    // The gateway answers with its request's traceparent: the trace the findings should point to.
    const traceId = /^00-([0-9a-f]{32})-/.exec(res.headers.get("traceparent") ?? "")?.[1];
    expect(traceId).toBeDefined();
    const read = async () => (await (await fetch(`${app.url}/_flotilla/api/fitness`)).json()) as FitnessReport;
    await expect.poll(async () => (await read()).findings.length, { timeout: 20_000 }).toBe(2);
    const { findings } = await read();
    const chain = findings.find((f) => f.kind === "sync-chain");
    expect(chain).toMatchObject({ services: ["gateway", "a", "b", "c", "d"], count: 1 });
    expect(chain?.text).toContain("4 hops (gateway → a → b → c → d)");
    const chatty = findings.find((f) => f.kind === "chatty-pair");
    expect(chatty).toMatchObject({ services: ["a", "d"], count: 1 });
    expect(chatty?.text).toContain("a calls d up to 5 times in one request");
    expect(chatty?.traces).toEqual(chain?.traces);
    expect(chain?.traces).toEqual([traceId]);
  });
});
