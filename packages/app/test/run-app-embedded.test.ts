/** `runApp` embedded: the event journal it keeps in the data directory, and the gauges it adds to /metrics. */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../../../examples/shop/src/app.js";
import { orders } from "../../../examples/shop/src/services/orders/contract.js";
import { type RunningApp, runApp } from "../src/index.js";

describe("operational metrics", () => {
  let app: RunningApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-metrics-"));
    app = await runApp(shopApp, { dataDir: dir, opsPort: 0, listenHost: "127.0.0.1" });
  });
  afterAll(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function scrape(): Promise<string> {
    const res = await fetch(`${app.ops?.url}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  }

  it("shows each service's outbox backlog and each durable group's lag", async () => {
    const caller = { subject: "user-demo", roles: ["customer"] };
    await app.host.call(
      orders.createOrder,
      {
        items: [{ productId: "prod-french-press", quantity: 1 }],
        payment: { card: "4242424242424242" },
        shipping: { name: "Ada", street: "1 Main St", city: "Oslo", country: "NO" },
      },
      { caller },
    );
    // Relayed and handled: both gauges settle at 0, labelled by service instance and by group.
    await expect.poll(scrape).toMatch(/flotilla_outbox_backlog_events\{service="orders",instance="orders-[^"]+"\} 0/);
    const text = await scrape();
    expect(text).toMatch(/flotilla_outbox_backlog_events\{service="catalog",instance="catalog-[^"]+"\} 0/);
    expect(text).toMatch(/flotilla_outbox_oldest_event_age_seconds\{service="orders",[^}]*\} 0/);
    expect(text).toMatch(/flotilla_consumer_lag_events\{group="catalog\.sales\.orderPlaced"\} 0/);
  });
});

describe("the embedded event journal", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-journal-option-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("lives in the data directory by default; journal=off keeps events in memory only", async () => {
    const off = await runApp(shopApp, { dataDir: join(dir, "off"), transport: "memory://?journal=off" });
    await off.stop();
    expect(existsSync(join(dir, "off", "flotilla.events.sqlite"))).toBe(false);
    const on = await runApp(shopApp, { dataDir: join(dir, "on") });
    await on.stop();
    expect(existsSync(join(dir, "on", "flotilla.events.sqlite"))).toBe(true);
  });

  it("refuses a journal setting it does not know", async () => {
    await expect(runApp(shopApp, { dataDir: dir, transport: "memory://?journal=maybe" })).rejects.toMatchObject({
      code: "FLOTILLA_CONFIG",
    });
  });
});
