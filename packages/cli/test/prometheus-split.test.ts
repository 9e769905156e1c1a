/**
 * The split shop scraped by a real Prometheus: nats-server, PostgreSQL (a database per service) and
 * the shop in three `flotilla start` processes, each with its ops port, scraped every second. Orders
 * placed through the gateway must show as a rate Prometheus computes, and every target as up.
 */
import {
  type PostgresHandle,
  type PrometheusHandle,
  resolvePrometheusBinary,
  runsWith,
  startPostgres,
  startPrometheus,
} from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADDRESS, CARDS, type Headers, ShopClient } from "../../../examples/shop/test/support/shop-client.js";
import { Cluster, type FlotillaProcess, gatewayReady, until } from "./split-helpers.js";

const ORDER_RATE = 'sum(rate(flotilla_action_duration_seconds_count{service="orders"}[15s]))';

describe.runIf(runsWith(resolvePrometheusBinary))("the split shop scraped by Prometheus", () => {
  let cluster: Cluster;
  let postgres: PostgresHandle | undefined;
  let prometheus: PrometheusHandle | undefined;
  let processes: FlotillaProcess[];
  let gateway: FlotillaProcess;

  beforeAll(async () => {
    cluster = new Cluster();
    [, postgres] = await Promise.all([cluster.startNats(), startPostgres()]);
    const env = {
      FLOTILLA_DB: postgres.url.replace(/\/postgres$/, "/{service}"),
      SHOP_DISPATCH_DELAY_MS: "200",
      SHOP_DISPATCH_SWEEP_MS: "100",
    };
    // The participants' databases and stock exist before the first order; then orders and the gateway.
    const rest = await cluster.start("rest", {
      services: "catalog,identity,inventory,payments,shipping,notifications,recommendations,reviews",
      ops: true,
      env,
    });
    const [orders, edge] = await Promise.all([
      cluster.start("orders", { services: "orders", ops: true, env }),
      cluster.start("gateway", { services: "none", gateway: true, ops: true, env }),
    ]);
    processes = [rest, orders, edge];
    gateway = edge;
    await gatewayReady(gateway, cluster, 30_000);
    prometheus = await startPrometheus({
      targets: processes.map((p) => new URL(p.opsUrl).host),
      scrapeIntervalSec: 1,
    });
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await cluster?.close();
    await postgres?.stop();
  }, 60_000);

  it("scrapes every instance's ops port and sees the orders' rate rise", { timeout: 120_000 }, async (ctx) => {
    ctx.onTestFailed(() => console.error(`processes:\n${cluster.dump()}\n--- prometheus ---\n${prometheus?.logs()}`));
    const prom = prometheus as PrometheusHandle;
    const targets = processes.map((p) => new URL(p.opsUrl).host).sort();
    await until(
      async () => {
        const up = await prom.query("up");
        return up.length === targets.length && up.every((s) => s.value === 1);
      },
      30_000,
      "every target to be up",
      () => JSON.stringify(processes.map((p) => p.opsUrl)),
    );
    expect((await prom.query("up")).map((s) => s.metric.instance).sort()).toEqual(targets);
    expect((await prom.targets()).map((t) => [t.instance, t.health, t.lastError]).sort()).toEqual(
      targets.map((t) => [t, "up", ""]),
    );

    // Orders keep coming while Prometheus scrapes: a rate needs the counter to grow between two scrapes.
    const client = new ShopClient(gateway.url);
    const demo: Headers = await client.signIn("demo@flotilla.dev", "demo-password");
    const body = {
      items: [{ productId: "prod-french-press", quantity: 1 }],
      payment: { card: CARDS.ok },
      shipping: ADDRESS,
    };
    let placed = 0;
    await until(
      async () => {
        const answer = await client.placeOrder(demo, body);
        expect(answer.status, JSON.stringify(answer.body)).toBe(202);
        placed++;
        const rate = await prom.query(ORDER_RATE);
        return rate.length === 1 && (rate[0]?.value ?? 0) > 0;
      },
      60_000,
      `${ORDER_RATE} to be above 0`,
      () => `${placed} orders placed`,
      100,
    );
    // The gateway's own series, by route template, from its ops port.
    const routed = await prom.query('sum(flotilla_http_requests_total{route="/api/v1/orders",code="202"})');
    expect(routed[0]?.value ?? 0).toBeGreaterThanOrEqual(1);
    // Sagas by state, from the orders process's database.
    await until(
      async () => {
        const sagas = await prom.query('sum(flotilla_sagas{service="orders",saga="checkout"})');
        return (sagas[0]?.value ?? 0) >= 1;
      },
      30_000,
      "the checkout sagas to be counted",
    );
  });
});
