/**
 * The shop embedded, under traffic: its RED series (per route, action and event handler) and gauges
 * move as requests flow, failures show with their status and code, and promtool accepts the whole.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineContract, defineService, FlotillaError } from "@flotilla/core";
import {
  checkMetricsWithPromtool,
  type ExposedSample,
  parseExposition,
  resolvePromtool,
  runsWith,
  sumOf,
  waitFor,
} from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../../../examples/shop/src/app.js";
import { orders } from "../../../examples/shop/src/services/orders/contract.js";
import { withEnv } from "../../../examples/shop/test/support/attack.js";
import { ADDRESS, CARDS, type Headers, ShopClient } from "../../../examples/shop/test/support/shop-client.js";
import { defineApp, type RunningApp, runApp } from "../src/index.js";

/** A listener that refuses every order as poison: each one is dead-lettered at its first failure. */
const refusing = defineService(defineContract({ service: "audit" }), {
  actions: {},
  subscriptions: {
    onOrderPlaced: {
      event: orders.OrderPlaced,
      maxDeliveries: 1,
      async handle() {
        throw new FlotillaError("INVALID_ARGUMENT", "audit refuses every order");
      },
    },
  },
});

describe("metrics as traffic flows, embedded", () => {
  let app: RunningApp;
  let dir: string;
  let client: ShopClient;
  let demo: Headers;
  let admin: Headers;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-metrics-traffic-"));
    const shop = defineApp({ ...shopApp, services: [...shopApp.services, refusing], units: undefined });
    app = await withEnv({ FLOTILLA_RATE_LIMIT: "1000000/1" }, () =>
      runApp(shop, { dataDir: dir, gatewayPort: 0, opsPort: 0, listenHost: "127.0.0.1" }),
    );
    client = new ShopClient(app.url ?? "");
    demo = await client.signIn("demo@flotilla.dev", "demo-password");
    admin = await client.signIn("admin@flotilla.dev", "admin-password");
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const scrape = async (): Promise<ExposedSample[]> => {
    const res = await fetch(`${app.ops?.url}/metrics`);
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };
  const order = (card: string) => ({
    items: [{ productId: "prod-french-press", quantity: 1 }],
    payment: { card },
    shipping: ADDRESS,
  });

  it("counts routes, actions and event handlers as requests arrive, with failures by status and code", async () => {
    const before = await scrape();
    const accepted = { method: "POST", route: "/api/v1/orders", code: "202" };
    const created = { service: "orders", action: "createOrder", status: "OK" };
    const placedOk = await client.placeOrder(demo, order(CARDS.ok));
    const placedDeclined = await client.placeOrder(demo, order(CARDS.declined));
    expect([placedOk.status, placedDeclined.status]).toEqual([202, 202]);
    expect((await client.send("GET", "/api/v1/products/no-such-product", {})).status).toBe(404);
    expect((await client.send("GET", "/no/such/route/at/all", {})).status).toBe(404);
    await client.settled(demo, placedOk.body.orderId);
    expect(await client.settled(demo, placedDeclined.body.orderId)).toMatchObject({ status: "rejected" });

    let after: ExposedSample[] = [];
    // Events are handled after the answers: wait until both refusals were dead-lettered.
    await waitFor(
      async () => {
        after = await scrape();
        return sumOf(after, "flotilla_dead_letters", { group: "audit.onOrderPlaced" }) === 2;
      },
      { timeoutMs: 30_000, what: "both orders in the audit group's dead letters" },
    );
    const grew = (name: string, labels: Record<string, string>) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);

    // Routes: by template and exact status; the made-up path is one unmatched series.
    expect(grew("flotilla_http_requests_total", accepted)).toBe(2);
    expect(grew("flotilla_http_request_duration_seconds_count", accepted)).toBe(2);
    const productRoute = { method: "GET", route: "/api/v1/products/:id", code: "404" };
    expect(grew("flotilla_http_requests_total", productRoute)).toBe(1);
    expect(grew("flotilla_http_requests_total", { route: "unmatched", code: "404" })).toBe(1);
    expect(after.some((s) => Object.values(s.labels).some((v) => v.includes("no/such")))).toBe(false);
    // Actions: rate and duration, and failures by status category and by code.
    expect(grew("flotilla_action_duration_seconds_count", created)).toBe(2);
    expect(grew("flotilla_action_duration_seconds_sum", created)).toBeGreaterThan(0);
    const notFound = { service: "catalog", action: "getProduct", status: "NOT_FOUND" };
    expect(grew("flotilla_action_duration_seconds_count", notFound)).toBe(1);
    const declined = { service: "payments", action: "charge", code: "CARD_DECLINED" };
    expect(grew("flotilla_action_errors_total", declined)).toBe(1);
    // Event handlers: the refusals with their status, counted and timed.
    const refused = { subscription: "audit.onOrderPlaced", type: "orders.OrderPlaced", status: "INVALID_ARGUMENT" };
    expect(grew("flotilla_events_handled_total", refused)).toBe(2);
    expect(grew("flotilla_event_handling_duration_seconds_count", refused)).toBe(2);
    expect(grew("flotilla_event_errors_total", { subscription: "audit.onOrderPlaced", code: "INVALID_ARGUMENT" })).toBe(
      2,
    );
    expect(grew("flotilla_events_emitted_total", { type: "orders.OrderPlaced" })).toBe(2);

    // Gauges: sagas by state, nothing in flight once all settled, the outbox drained.
    const checkout = { service: "orders", saga: "checkout", version: "1" };
    expect(sumOf(after, "flotilla_sagas", { ...checkout, state: "completed" })).toBeGreaterThanOrEqual(1);
    expect(
      sumOf(after, "flotilla_sagas", { ...checkout, state: "failed" }) +
        sumOf(after, "flotilla_sagas", { ...checkout, state: "compensated" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sumOf(after, "flotilla_handlers_in_flight", { service: "orders", kind: "action" })).toBe(0);
    await waitFor(async () => sumOf(await scrape(), "flotilla_outbox_backlog_events", { service: "orders" }) === 0, {
      timeoutMs: 30_000,
      what: "the orders outbox to drain",
    });
  });

  it("serves the same registry on the gateway to an admin only", async () => {
    expect((await fetch(`${app.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${app.url}/metrics`, { headers: demo })).status).toBe(403);
    const res = await fetch(`${app.url}/metrics`, { headers: admin });
    expect(res.status).toBe(200);
    const samples = parseExposition(await res.text());
    expect(sumOf(samples, "flotilla_action_duration_seconds_count", { service: "orders" })).toBeGreaterThan(0);
    expect(sumOf(samples, "flotilla_http_requests_total", { route: "/metrics", code: "403" })).toBeGreaterThanOrEqual(
      1,
    );
  });

  it("counts requests with an idempotency key by outcome: stored once, then replayed", async () => {
    const before = await scrape();
    const key = { "idempotency-key": "metrics-once" };
    const first = await client.placeOrder(demo, order(CARDS.ok), key);
    const again = await client.placeOrder(demo, order(CARDS.ok), key);
    expect(again.body.orderId).toBe(first.body.orderId);
    const after = await scrape();
    const grew = (outcome: string) =>
      sumOf(after, "flotilla_idempotency_requests_total", { service: "orders", outcome }) -
      sumOf(before, "flotilla_idempotency_requests_total", { service: "orders", outcome });
    expect([grew("stored"), grew("replayed")]).toEqual([1, 1]);
    await client.settled(demo, first.body.orderId);
  });

  it.runIf(runsWith(resolvePromtool))("renders metrics promtool accepts", async () => {
    const text = await (await fetch(`${app.ops?.url}/metrics`)).text();
    // The traffic of the tests before is in it: failures, events, sagas, routes.
    expect(text).toContain("flotilla_action_errors_total{");
    expect(text).toContain("flotilla_sagas{");
    // The check itself can fail: a counter without its _total suffix is refused.
    expect(
      (await checkMetricsWithPromtool("# HELP odd_count A counter.\n# TYPE odd_count counter\nodd_count 1\n")).ok,
    ).toBe(false);
    const verdict = await checkMetricsWithPromtool(text);
    expect(verdict.output).toBe("");
    expect(verdict.ok).toBe(true);
  });
});
