/**
 * @module The checkout case: the real shop's checkout saga (reserve → charge → ship → commit) driven
 * through its gateway over HTTP, N checkouts in flight, each `POST /api/v1/orders` (202) followed by
 * its order's terminal `OrderStatusChanged`, as a subscriber sees it (checkout-observer.ts).
 *
 * `--mode embedded`: the shop in one child process (checkout-shop.ts), SQLite; the observer runs in it
 * and prints each terminal instant. `--mode split`: the process layout of the split checkout test
 * (packages/cli/test/checkout-split.test.ts): gateway, orders, participants (inventory, payments,
 * shipping) and the rest as four `flotilla start` processes over a nats-server (started by the tests'
 * `Cluster`) and the run's PostgreSQL (`--pg`, a database per service); the observer runs in this
 * process, a host of its own on that nats-server.
 *
 * Every fourth order pays with the declined test card (rejected after its reservation is released);
 * the others are confirmed. The products get stock enough for every order first.
 *
 * Prints `{ready}`, takes `{run: {inFlight, warm, measured}}` and answers `{result}`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createHost, type Host } from "@flotilla/core";
import { natsTransport } from "@flotilla/nats";
import { waitFor } from "@flotilla/testing";
import { destination, pino } from "pino";
import { ADDRESS, CARDS, ShopClient } from "../../examples/shop/test/support/shop-client.js";
import { Cluster, type FlotillaProcess, gatewayReady } from "../../packages/cli/test/split-helpers.js";
import { Child } from "../nats/child.js";
import { cpuMicros } from "../nats/cpu.js";
import { receive, reply } from "../nats/io.js";
import { flushStdout } from "../outbox/flush.js";
import { observerService, Terminals } from "./checkout-observer.js";
import { closedLoop, now } from "./load.js";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "embedded" },
    pg: { type: "string", default: "" },
    tag: { type: "string", default: String(process.pid) },
  },
});
if (values.mode !== "embedded" && values.mode !== "split") throw new Error("--mode embedded|split");
if (values.mode === "split" && values.pg === "") throw new Error("--mode split needs --pg postgres://user@host:port");

const PRODUCTS = ["prod-ceramic-mug", "prod-paper-filters", "prod-descaler"];
const SHOP_ENV = { FLOTILLA_RATE_LIMIT: "1000000/1", SHOP_DISPATCH_DELAY_MS: "200", SHOP_DISPATCH_SWEEP_MS: "100" };
const terminals = new Terminals();
const pids: Record<string, number> = {};
const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-checkout-"));
let shop: Child | undefined;
let cluster: Cluster | undefined;
let observer: Host | undefined;

try {
  const url = values.mode === "embedded" ? await embedded() : await split();
  const client = new ShopClient(url);
  const demo = await client.signIn("demo@flotilla.dev", "demo-password");
  const admin = await client.signIn("admin@flotilla.dev", "admin-password");
  for (const p of PRODUCTS) await client.setStock(admin, p, 1_000_000);
  await waitFor(async () => enoughStock(await client.stock(admin)), {
    timeoutMs: 30_000,
    intervalMs: 50,
    what: "the inventory to take the new stock",
  });
  reply({ ready: true });
  for (let msg = await receive(), round = 0; msg !== undefined; msg = await receive(), round++) {
    const o = msg.run as { inFlight: number; warm: number; measured: number };
    const afterAccepted: number[] = new Array(o.measured).fill(Number.NaN);
    const statuses: Record<string, number> = {};
    let started = 0;
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMicros(pid)]));
    const result = await closedLoop(async (i) => {
      started++;
      const body = {
        items: [{ productId: PRODUCTS[i % PRODUCTS.length] as string, quantity: 1 }],
        payment: { card: i % 4 === 3 ? CARDS.declined : CARDS.ok },
        shipping: ADDRESS,
      };
      const placed = await client.placeOrder(demo, body, { "idempotency-key": `bench-${values.tag}-${round}-${i}` });
      const accepted = now();
      if (placed.status !== 202) throw new Error(`order ${i}: ${placed.status} ${JSON.stringify(placed.body)}`);
      const end = await terminals.of(placed.body.orderId as string);
      statuses[end.status] = (statuses[end.status] ?? 0) + 1;
      if (i >= o.warm && i < o.warm + o.measured) afterAccepted[i - o.warm] = end.ns - accepted;
      return 0;
    }, o);
    const cpuUsPerCheckout = Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [k, (cpuMicros(pid) - (cpu0[k] ?? Number.NaN)) / started]),
    );
    reply({ result: { ...result, started, afterAcceptedNs: afterAccepted, statuses, cpuUsPerCheckout } });
  }
} finally {
  await shop?.stop();
  await observer?.stop();
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
}
await flushStdout();
process.exit(0);

function enoughStock(stock: Map<string, { available: number }>): boolean {
  return PRODUCTS.every((p) => (stock.get(p)?.available ?? 0) >= 1_000_000);
}

async function embedded(): Promise<string> {
  process.env = { ...process.env, ...SHOP_ENV };
  const child = new Child("shop", join(import.meta.dirname, "checkout-shop.ts"), ["--data-dir", dir]);
  shop = child;
  const ready = await child.expect("ready");
  pids.shop = Number(ready.pid);
  void (async () => {
    for (;;) {
      const msg = await child.next(24 * 3_600_000).catch(() => undefined);
      if (msg === undefined) return;
      terminals.notice(String(msg.terminal), String(msg.status), Number(msg.ns));
    }
  })();
  return String(ready.url);
}

async function split(): Promise<string> {
  cluster = new Cluster();
  const nats = await cluster.startNats();
  pids.nats = nats.pid;
  const env = { ...SHOP_ENV, FLOTILLA_DB: `${values.pg}/co${values.tag}_{service}` };
  const start = (name: string, services: string, gateway = false): Promise<FlotillaProcess> =>
    (cluster as Cluster).start(name, { services, gateway, env });
  // As the split test: participants first (their databases and stock exist before the first order).
  const participants = await start("participants", "inventory,payments,shipping");
  const [rest, orders, gateway] = await Promise.all([
    start("rest", "catalog,identity,notifications,recommendations"),
    start("orders", "orders"),
    start("gateway", "none", true),
  ]);
  Object.assign(pids, { gateway: gateway.pid, orders: orders.pid, participants: participants.pid, rest: rest.pid });
  await gatewayReady(gateway, cluster, 30_000);
  observer = createHost({
    services: [observerService(terminals.notice)],
    transport: nats.url,
    transports: { nats: natsTransport },
    logger: pino({ level: "warn" }, destination(2)),
  });
  await observer.start();
  return gateway.url;
}
