/**
 * Checkout split, for real: a nats-server (JetStream), one PostgreSQL server (a database per service)
 * and the shop in four `flotilla start` processes, as a user would run it. Every outcome once, then
 * 1,000 concurrent checkouts over HTTP while the saga's orchestrator (orders) and its participants
 * (inventory, payments, shipping) are SIGKILLed in turn every few seconds and started again on the same
 * databases: the books must balance exactly, as in the embedded test (examples/shop/test/checkout.test.ts).
 */
import { readdirSync } from "node:fs";
import { TRACE_FILE } from "@flotilla/telemetry";
import { type PostgresHandle, startPostgres } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Books, checkoutLoad } from "../../../examples/shop/test/support/reconcile.js";
import { ADDRESS, CARDS, type Headers, NOWHERE, ShopClient } from "../../../examples/shop/test/support/shop-client.js";
import { Cluster, type FlotillaProcess, gatewayReady, type StartOptions } from "./split-helpers.js";

const LOAD_ORDERS = Number(process.env.CHECKOUT_LOAD_ORDERS ?? 1000);
/** Time between one kill and the next (of the other victim), and the least a victim runs between its kills. */
const KILL_EVERY_MS = 3_000;
/** Kills at least this many times (half of each victim), even when the orders are all placed sooner. */
const MIN_KILLS = 4;

/** Which services run where: the orchestrator and the participants can each be killed on their own. */
const PROCESSES = {
  gateway: { services: "none", gateway: true },
  orders: { services: "orders" },
  participants: { services: "inventory,payments,shipping" },
  rest: { services: "catalog,identity,notifications,recommendations,reviews" },
} as const satisfies Record<string, Omit<StartOptions, "env">>;
type Name = keyof typeof PROCESSES;
const VICTIMS = ["orders", "participants"] as const satisfies readonly Name[];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("checkout, split over NATS and PostgreSQL", () => {
  let cluster: Cluster;
  let postgres: PostgresHandle | undefined;
  let env: Record<string, string>;
  const running = new Map<Name, FlotillaProcess>();
  let client: ShopClient;
  let demo: Headers;
  let admin: Headers;

  /** Starts (or starts again, on the same data dir and databases) one of the processes. */
  async function start(name: Name): Promise<FlotillaProcess> {
    const dataDir = running.get(name)?.dataDir;
    const proc = await cluster.start(name, { ...PROCESSES[name], env, ...(dataDir ? { dataDir } : {}) });
    running.set(name, proc);
    return proc;
  }

  beforeAll(async () => {
    cluster = new Cluster();
    [, postgres] = await Promise.all([
      cluster.startNats(),
      // Four processes of up to eight pools of 10 (and killed ones' sessions, until the server notices).
      startPostgres({ settings: { max_connections: "300" } }),
    ]);
    env = {
      // Every service in its own database on this server, `{service}` naming it (created on first start).
      FLOTILLA_DB: postgres.url.replace(/\/postgres$/, "/{service}"),
      FLOTILLA_RATE_LIMIT: "1000000/1",
      SHOP_DISPATCH_DELAY_MS: "200",
      SHOP_DISPATCH_SWEEP_MS: "100",
      // Restarts take seconds on a busy 2-core machine, and a killed process's outbox lease ~10 s more:
      // with the default 30 s most checkouts would time out and turn back. They balance either way, but
      // the test is of checkouts that go through the kills.
      SHOP_CHECKOUT_TIMEOUT_MS: "120000",
    };
    // Participants first: their databases and stock exist before the first order. Then the others at once.
    await start("participants");
    await Promise.all((["rest", "orders", "gateway"] as const).map(start));
    const gateway = running.get("gateway") as FlotillaProcess;
    await gatewayReady(gateway, cluster, 30_000);
    // Requests are sent again (same body, same Idempotency-Key) while a process restarts under them.
    client = new ShopClient(gateway.url, { retryTransient: { forMs: 180_000, requestTimeoutMs: 20_000 } });
    demo = await client.signIn("demo@flotilla.dev", "demo-password");
    admin = await client.signIn("admin@flotilla.dev", "admin-password");
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
    await postgres?.stop();
  }, 60_000);

  const order = (productId: string, card: string, shipping = ADDRESS, quantity = 1) => ({
    items: [{ productId, quantity }],
    payment: { card },
    shipping,
  });

  it("ends each checkout as the embedded shop does, on PostgreSQL", { timeout: 90_000 }, async (ctx) => {
    ctx.onTestFailed(() => console.error(`processes:\n${cluster.dump()}`));
    const paymentsBefore = await client.payments(admin);
    const [ok, declined, nowhere] = await Promise.all([
      client.placeOrder(demo, order("prod-french-press", CARDS.ok), { "idempotency-key": "split-ok" }),
      client.placeOrder(demo, order("prod-tamper", CARDS.declined, ADDRESS, 2), { "idempotency-key": "split-no" }),
      client.placeOrder(demo, order("prod-moka-pot", CARDS.ok, NOWHERE), { "idempotency-key": "split-zz" }),
    ]);
    for (const placed of [ok, declined, nowhere]) {
      expect(placed.status, JSON.stringify(placed.body)).toBe(202);
      expect(placed.body).toMatchObject({ status: "pending" });
    }
    const shipped = await client.settled(demo, ok.body.orderId, new Set(["shipped"]), 60_000);
    expect(shipped.failureReason).toBeUndefined();
    expect(await client.settled(demo, declined.body.orderId, undefined, 60_000)).toMatchObject({
      status: "rejected",
      failureReason: "CARD_DECLINED",
    });
    const cancelled = await client.settled(demo, nowhere.body.orderId, undefined, 60_000);
    expect(cancelled).toMatchObject({ status: "cancelled", failureReason: "DESTINATION_NOT_SERVED" });
    // Charged: the shipped order and the cancelled one (refunded); the declined card moved nothing.
    const paymentsAfter = await client.payments(admin);
    expect(paymentsAfter.charged - paymentsBefore.charged).toBe(shipped.total + cancelled.total);
    expect(paymentsAfter.refunded - paymentsBefore.refunded).toBe(cancelled.total);
    // The services' data is in PostgreSQL: no process made a SQLite file but its trace store's.
    for (const p of cluster.processes) {
      expect(readdirSync(p.dataDir).filter((f) => f.endsWith(".sqlite") && f !== TRACE_FILE)).toEqual([]);
    }
  });

  it(`${LOAD_ORDERS} concurrent checkouts balance exactly while orders and participants are SIGKILLed`, {
    timeout: 600_000,
  }, async (ctx) => {
    ctx.onTestFailed(() => console.error(`processes:\n${cluster.dump()}`));
    const startedAt = Date.now();
    const at = (t: number) => `${((t - startedAt) / 1000).toFixed(1)} s`;
    const kills: string[] = [];
    /** From each SIGKILL to its victim running again. */
    const restartMs: number[] = [];
    let placedAt = 0;

    /**
     * While the orders are placed (and at least MIN_KILLS times), the victims in turn are SIGKILLed and
     * started again, without waiting for that: both may be down at once. A kill comes KILL_EVERY_MS after
     * the previous one, and once its victim has run KILL_EVERY_MS since its own last restart.
     */
    const chaos = async (placing: Promise<void>) => {
      let placed = false;
      const settle = () => {
        placed = true;
        placedAt = Date.now();
      };
      placing.then(settle, settle);
      const enough = () => placed && kills.length >= MIN_KILLS;
      const restarts = new Map<Name, Promise<void>>();
      const upSince = new Map<Name, number>(VICTIMS.map((v) => [v, 0]));
      let lastKill = Date.now();
      for (let n = 0; !enough(); n++) {
        const name = VICTIMS[n % VICTIMS.length] as Name;
        await restarts.get(name);
        const due = Math.max(lastKill, upSince.get(name) ?? 0) + KILL_EVERY_MS;
        while (Date.now() < due && !enough()) await sleep(100);
        if (enough()) break;
        lastKill = Date.now();
        await cluster.signal(running.get(name) as FlotillaProcess, "SIGKILL", 5_000);
        kills.push(`${name} at ${at(lastKill)}`);
        const killedAt = lastKill;
        restarts.set(
          name,
          start(name).then(() => {
            upSince.set(name, Date.now());
            restartMs.push(Date.now() - killedAt);
          }),
        );
      }
      await Promise.all(restarts.values());
    };

    const books: Books = await checkoutLoad(client, demo, admin, {
      orders: LOAD_ORDERS,
      concurrency: 50,
      scarce: [
        { productId: "prod-espresso-machine", stock: 40 },
        { productId: "prod-burr-grinder", stock: 25 },
      ],
      plentiful: ["prod-ceramic-mug", "prod-paper-filters", "prod-descaler"],
      settleTimeoutMs: 180_000,
      meanwhile: chaos,
    });
    const finishedAt = Date.now();
    // No checkout was left for an operator (a saga that could neither finish nor turn back).
    const failed = await client.send("GET", "/api/v1/admin/sagas?status=failed&limit=500", admin);
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`checkout load (split, PostgreSQL): ${JSON.stringify(books)}`);
    console.log(
      `${kills.length} SIGKILLs (${kills.join(", ")}); each victim ran again ` +
        `${seconds(Math.min(...restartMs))}..${seconds(Math.max(...restartMs))} after its kill. ` +
        `${LOAD_ORDERS} orders placed in ${seconds(placedAt - startedAt)}, all ended and the books read in ` +
        `${seconds(finishedAt - startedAt)}; requests sent again after a transient answer: ` +
        `${JSON.stringify(Object.fromEntries(client.retried))} (by status; 0: none in time)`,
    );

    expect(failed.status).toBe(200);
    expect(failed.body.items).toEqual([]);
    expect(kills.length).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(books.placed).toBe(LOAD_ORDERS);
    expect(books.byStatus.pending ?? 0).toBe(0);
    expect(books.byReason.OUT_OF_STOCK ?? 0).toBeGreaterThan(0);
    expect(books.byReason.CARD_DECLINED ?? 0).toBeGreaterThan(0);
    expect(books.byReason.DESTINATION_NOT_SERVED ?? 0).toBeGreaterThan(0);
    expect(books.stock.mismatched).toEqual([]);
    expect(books.stock.reservedLeft).toBe(0);
    expect(books.payments.net).toBe(books.payments.confirmedTotal);
    // Every charge is an order confirmed or cancelled after its charge; none twice.
    expect(books.payments.charged).toBe(books.payments.confirmedTotal + books.payments.cancelledTotal);
    expect(books.payments.refunded).toBe(books.payments.cancelledTotal);
  });
});
