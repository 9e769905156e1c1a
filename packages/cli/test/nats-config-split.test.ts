/**
 * The shop split under least-privilege NATS users, as a user would set it up: `flotilla nats-config`
 * writes the nats-server configuration and each unit's credentials, nats-server runs with it, and every
 * `flotilla start` process connects as its own unit's user. A checkout completes through the gateway,
 * live push and the cache's invalidation work, and the server reports no permission violation at all.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startNatsServer } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveMessage, openEventSource, tokenOf } from "../../../examples/shop/test/support/live-clients.js";
import {
  ADDRESS,
  CARDS,
  type Headers,
  type Json,
  ShopClient,
} from "../../../examples/shop/test/support/shop-client.js";
import { Cluster, type FlotillaProcess, gatewayReady, root } from "./split-helpers.js";

const bin = join(root, "packages/cli/bin/flotilla.js");
const ENV = { SHOP_DISPATCH_DELAY_MS: "200", SHOP_DISPATCH_SWEEP_MS: "100" };
/** Units as `--group` gives them; orders is left out, so it is a unit (and a user) of its own. */
const GROUPS = {
  edge: "gateway",
  participants: "inventory,payments,shipping",
  rest: "catalog,identity,notifications,recommendations,reviews",
};
const PRODUCT = "/api/v1/products/prod-french-press";

function flotilla(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });
}

describe("the shop split, each process with its own least-privilege NATS user", () => {
  let cluster: Cluster;
  let gateway: FlotillaProcess;
  let credentials: string;

  const transportOf = (unit: string) =>
    /^FLOTILLA_TRANSPORT=(\S+)$/m.exec(readFileSync(join(credentials, `${unit}.env`), "utf8"))?.[1] ?? "";

  beforeAll(async () => {
    cluster = new Cluster();
    const dir = cluster.tempDir("flotilla-nats-config-");
    credentials = join(dir, "credentials");
    const port = await freePort();
    const groups = Object.entries(GROUPS).flatMap(([name, members]) => ["--group", `${name}=${members}`]);
    const generated = flotilla([
      "nats-config",
      ...groups,
      "--server",
      `nats://127.0.0.1:${port}`,
      "--out",
      join(dir, "nats.conf"),
      "--credentials",
      credentials,
    ]);
    expect(generated.status, generated.stderr).toBe(0);
    expect(generated.stdout).toContain("users edge, participants, rest, orders");
    cluster.nats = await startNatsServer({ port, config: readFileSync(join(dir, "nats.conf"), "utf8") });
    const start = (unit: string, services: string, gatewayToo = false) =>
      cluster.start(unit, { services, gateway: gatewayToo, env: ENV, transport: transportOf(unit) });
    // Participants first: their stock exists before the first order.
    await start("participants", GROUPS.participants);
    [, , gateway] = await Promise.all([
      start("rest", GROUPS.rest),
      start("orders", "orders"),
      start("edge", "none", true),
    ]);
    await gatewayReady(gateway, cluster, 30_000);
  }, 180_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it("writes a configuration nats-server accepts, and credentials only their unit can read", () => {
    const url = new URL(transportOf("orders"));
    expect([url.username, url.searchParams.get("inboxPrefix")]).toEqual(["orders", "_INBOX_orders"]);
    expect(url.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(transportOf("rest")).not.toContain(url.password);
  });

  it("completes a checkout through the gateway, pushing its states live", { timeout: 120_000 }, async (ctx) => {
    ctx.onTestFailed(() => console.error(`processes:\n${cluster.dump()}`));
    const client = new ShopClient(gateway.url);
    const demo: Headers = await client.signIn("demo@flotilla.dev", "demo-password");
    const live = await openEventSource(gateway.url, tokenOf(demo));
    try {
      const placed = await client.placeOrder(demo, {
        items: [{ productId: "prod-french-press", quantity: 1 }],
        payment: { card: CARDS.ok },
        shipping: ADDRESS,
      });
      expect(placed.status, JSON.stringify(placed.body)).toBe(202);
      const orderId = placed.body.orderId as string;
      const shipped = await client.settled(demo, orderId, new Set(["shipped"]), 60_000);
      expect(shipped).toMatchObject({ status: "shipped" });
      const statusOf = (status: string) => (m: LiveMessage) =>
        m.type === "orders.OrderStatusChanged" && m.data.orderId === orderId && m.data.status === status;
      for (const status of ["confirmed", "shipped"]) await live.next(statusOf(status), `the order ${status}, live`);
    } finally {
      live.close();
    }
  });

  it("drops a cached product when the catalog announces its change", { timeout: 60_000 }, async (ctx) => {
    ctx.onTestFailed(() => console.error(`processes:\n${cluster.dump()}`));
    const client = new ShopClient(gateway.url);
    const admin = await client.signIn("admin@flotilla.dev", "admin-password");
    const before = (await (await fetch(`${gateway.url}${PRODUCT}`)).json()) as Json;
    expect((await fetch(`${gateway.url}${PRODUCT}`)).headers.get("x-cache")).toBe("HIT");
    const price = before.price + 100;
    const changed = await client.send("PATCH", `/api/v1/admin/products/prod-french-press`, admin, { price });
    expect(changed.status).toBe(200);
    // The invalidation travels as an event to the gateway's broadcast subscriber: it may take a moment.
    let after: Json = before;
    for (let i = 0; i < 200 && after.price !== price; i++) {
      await new Promise((r) => setTimeout(r, 25));
      after = (await (await fetch(`${gateway.url}${PRODUCT}`)).json()) as Json;
    }
    expect(after.price).toBe(price);
  });

  it("stays within every user's permissions: nats-server reports no violation", () => {
    expect(cluster.nats?.logs()).toContain("Server is ready");
    expect(cluster.nats?.logs() ?? "").not.toMatch(/Violation/i);
  });
});
