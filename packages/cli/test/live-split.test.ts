/**
 * Live push split over NATS: the shop's services in one `flotilla start` process, two gateway processes
 * in front. Each gateway subscribes to the live events by broadcast over the app's transport, so a client
 * on either one gets its own buyer's events, and no one else's.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LiveClient,
  type LiveMessage,
  openEventSource,
  openWebSocket,
  tokenOf,
} from "../../../examples/shop/test/support/live-clients.js";
import { ADDRESS, CARDS, type Headers, ShopClient } from "../../../examples/shop/test/support/shop-client.js";
import { Cluster, type FlotillaProcess, gatewayReady } from "./split-helpers.js";

const ENV = { SHOP_DISPATCH_DELAY_MS: "200", SHOP_DISPATCH_SWEEP_MS: "100" };

const statusOf = (orderId: string, status: string) => (m: LiveMessage) =>
  (m.type === "orders.OrderStatusChanged" && m.data.orderId === orderId && m.data.status === status) ||
  (status === "pending" && m.type === "orders.OrderPlaced" && m.data.orderId === orderId);
const mentions = (orderId: string) => (m: LiveMessage) => JSON.stringify(m.data).includes(orderId);

describe("live push, split over NATS with two gateways", () => {
  let cluster: Cluster;
  let gatewayA: FlotillaProcess;
  let gatewayB: FlotillaProcess;
  const open: LiveClient[] = [];

  beforeAll(async () => {
    cluster = new Cluster();
    await cluster.startNats();
    await cluster.start("services", {
      services: "catalog,orders,identity,inventory,payments,shipping,notifications,recommendations,reviews",
      env: ENV,
    });
    [gatewayA, gatewayB] = await Promise.all([
      cluster.start("gateway-a", { services: "none", gateway: true, env: ENV }),
      cluster.start("gateway-b", { services: "none", gateway: true, env: ENV }),
    ]);
    await Promise.all([gatewayReady(gatewayA, cluster, 30_000), gatewayReady(gatewayB, cluster, 30_000)]);
  }, 120_000);

  afterAll(async () => {
    for (const c of open) c.close();
    await cluster?.close();
  });

  it("a buyer on each gateway sees their own order go pending → confirmed → shipped, and not the other's", async () => {
    const a = new ShopClient(gatewayA.url);
    const b = new ShopClient(gatewayB.url);
    const demo: Headers = await a.signIn("demo@flotilla.dev", "demo-password");
    const email = `live-${randomUUID()}@example.org`;
    expect(
      (await b.send("POST", "/api/v1/auth/register", {}, { email, password: "other-password", name: "O" })).status,
    ).toBe(201);
    const other: Headers = await b.signIn(email, "other-password");

    const demoLive = await openEventSource(gatewayA.url, tokenOf(demo));
    const otherLive = await openWebSocket(gatewayB.url, tokenOf(other));
    open.push(demoLive, otherLive);

    const order = {
      items: [{ productId: "prod-french-press", quantity: 1 }],
      payment: { card: CARDS.ok },
      shipping: ADDRESS,
    };
    // Each places an order through the other gateway: where a request lands does not matter, whose it is does.
    const demoOrder = (await b.placeOrder(demo, order)).body.orderId as string;
    const otherOrder = (await a.placeOrder(other, order)).body.orderId as string;
    for (const status of ["pending", "confirmed", "shipped"]) {
      await demoLive.next(statusOf(demoOrder, status), `demo's order ${status} on gateway A`);
      await otherLive.next(statusOf(otherOrder, status), `the other's order ${status} on gateway B`);
    }
    expect(demoLive.messages.filter(mentions(otherOrder))).toEqual([]);
    expect(otherLive.messages.filter(mentions(demoOrder))).toEqual([]);

    // Positions come from the transport's history, so gateway B resumes an id gateway A gave.
    const resumed = await openEventSource(gatewayB.url, tokenOf(demo), { "last-event-id": demoLive.readyId });
    open.push(resumed);
    expect(resumed.messages.some(statusOf(demoOrder, "shipped"))).toBe(true);
    expect(resumed.messages.filter(mentions(otherOrder))).toEqual([]);
  }, 120_000);
});
