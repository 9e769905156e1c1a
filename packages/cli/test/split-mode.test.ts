/**
 * Distributed mode, for real: a nats-server (JetStream) on a free port and Flotilla processes started
 * with the `flotilla` CLI as a user would (one OS process each, `--transport nats://…`, own `--data-dir`).
 * Each test builds its own world and tears it down in afterEach, whatever happened.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { demoProducts } from "../../../examples/shop/src/services/catalog/seed.js";
import { type LedgerRecord, toRecord } from "./fixtures/ledger-app.js";
import {
  type Answer,
  Cluster,
  errorCode,
  type FlotillaProcess,
  gatewayReady,
  http,
  loops,
  metric,
  natsOutageUnderLoad,
  signIn,
  until,
  withTimeout,
} from "./split-helpers.js";

const LEDGER_APP = "packages/cli/test/fixtures/ledger-app.ts";
const ACTION_COUNT = "flotilla_action_duration_seconds_count";
const ids = demoProducts.map((p) => p.id);
const json = { "content-type": "application/json" };
const paid = {
  payment: { card: "4242424242424242" },
  shipping: { name: "Ada", street: "1 Main St", city: "Oslo", country: "NO" },
};
type Auth = { authorization: string };

function placeOrder(gateway: FlotillaProcess, auth: Auth, n: number, timeoutMs = 10_000): Promise<Answer> {
  const items = [
    { productId: ids[n % ids.length] as string, quantity: 1 + (n % 3) },
    { productId: ids[(n + 7) % ids.length] as string, quantity: 1 },
  ];
  return http(
    `${gateway.url}/api/v1/orders`,
    { method: "POST", headers: { ...json, ...auth }, body: JSON.stringify({ items, ...paid }) },
    timeoutMs,
  );
}

describe("distributed mode: flotilla processes over NATS", () => {
  let cluster: Cluster;
  beforeEach((ctx) => {
    cluster = new Cluster();
    const current = cluster;
    ctx.onTestFailed(() => {
      console.error(`processes of the failed test "${ctx.task.name}":\n${current.dump()}`);
    });
  });
  afterEach(async () => {
    await cluster.close();
  });

  it("runs the shop split in three processes and stops each on SIGTERM", { timeout: 60_000 }, async () => {
    await cluster.startNats();
    const [catalogProc, ordersProc, gateway] = await Promise.all([
      cluster.start("catalog", { services: "catalog" }),
      cluster.start("orders", {
        services: "orders,identity,inventory,payments,shipping,notifications,recommendations,reviews",
      }),
      cluster.start("gateway", { services: "none", gateway: true }),
    ]);
    expect(catalogProc.output()).toContain("Flotilla shop: running catalog over nats");
    expect(ordersProc.output()).toContain(
      "Flotilla shop: running orders, identity, inventory, payments, shipping, notifications, recommendations, reviews over nats",
    );
    expect(gateway.output()).toContain("Flotilla shop: running no services over nats");
    await gatewayReady(gateway, cluster);
    // The gateway verifies the token (keys from identity, over NATS) and signs the caller for orders.
    const auth = await signIn(gateway);

    const products = await http(`${gateway.url}/api/v1/products?limit=5`);
    expect(products.status).toBe(200);
    const page = products.body as { items: Array<{ id: string; price: number }>; nextCursor: string | null };
    expect(page.items).toHaveLength(5);
    expect(page.nextCursor).toEqual(expect.any(String));

    // orders (process 2) prices the order by calling catalog (process 1); the gateway (process 3) routes.
    const [a, b] = page.items as [{ id: string; price: number }, { id: string; price: number }];
    const placed = await http(`${gateway.url}/api/v1/orders`, {
      method: "POST",
      headers: { ...json, ...auth },
      body: JSON.stringify({
        items: [
          { productId: a.id, quantity: 2 },
          { productId: b.id, quantity: 1 },
        ],
        payment: { card: "4242424242424242" },
        shipping: { name: "Ada", street: "1 Main St", city: "Oslo", country: "NO" },
      }),
    });
    expect(placed.status).toBe(202);
    const { orderId, status } = placed.body as { orderId: string; status: string };
    expect(status).toBe("pending");

    const read = await http(`${gateway.url}/api/v1/orders/${orderId}`, { headers: auth });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id: orderId,
      total: a.price * 2 + b.price,
      items: [
        { productId: a.id, quantity: 2, unitPrice: a.price },
        { productId: b.id, quantity: 1, unitPrice: b.price },
      ],
    });
    // The checkout saga runs across the processes over NATS: the order ends confirmed (or already shipped).
    await until(
      async () => {
        const now = await http(`${gateway.url}/api/v1/orders/${orderId}`, { headers: auth });
        return ["confirmed", "shipped"].includes((now.body as { status: string }).status);
      },
      20_000,
      "the order to be confirmed",
    );
    const missing = await http(`${gateway.url}/api/v1/orders/no-such-order`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(errorCode(missing)).toBe("ORDER_NOT_FOUND");

    const exits = await Promise.all([gateway, ordersProc, catalogProc].map((p) => cluster.signal(p, "SIGTERM")));
    for (const [i, p] of [gateway, ordersProc, catalogProc].entries()) {
      expect(exits[i], p.output()).toEqual({ code: 0, signal: null });
      expect(p.output()).toContain("Flotilla shop stopped");
    }
  });

  it("shares requests between two instances of a service in separate processes", { timeout: 60_000 }, async () => {
    await cluster.startNats();
    // Two instances of one service share its database (docs/deployment.md): here one SQLite file.
    const db = { FLOTILLA_DB_CATALOG: `sqlite:${cluster.tempDir("flotilla-catalog-db-")}` };
    const [one, two, gateway] = await Promise.all([
      cluster.start("catalog-1", { services: "catalog", ops: true, env: db }),
      cluster.start("catalog-2", { services: "catalog", ops: true, env: db }),
      // Uncached: each product read must reach an instance, to count how they share the load.
      cluster.start("gateway", { services: "none", gateway: true, env: { FLOTILLA_GATEWAY_CACHE: "off" } }),
    ]);
    // Not /readyz: the shop's gateway also routes to orders, which does not run here.
    expect((await http(`${gateway.url}/api/v1/products?limit=1`)).status).toBe(200);

    const N = 200;
    let sent = 0;
    const answers: Answer[] = [];
    await withTimeout(
      loops(10, async () => {
        const n = sent++;
        if (n >= N) return false;
        answers.push(await http(`${gateway.url}/api/v1/products/${ids[n % ids.length]}`, {}, 10_000));
        return true;
      }),
      30_000,
      `${N} requests`,
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);

    const served = await Promise.all(
      [one, two].map((p) => metric(p.opsUrl, ACTION_COUNT, { service: "catalog", action: "getProduct", status: "OK" })),
    );
    console.info(`load sharing: catalog-1 served ${served[0]}, catalog-2 served ${served[1]} of ${N}`);
    expect((served[0] ?? 0) + (served[1] ?? 0)).toBe(N); // each request handled exactly once
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
  });

  it("keeps serving when one of two instances is SIGKILLed under load", { timeout: 60_000 }, async () => {
    await cluster.startNats();
    const db = { FLOTILLA_DB_CATALOG: `sqlite:${cluster.tempDir("flotilla-catalog-db-")}` };
    const [victim, survivor, gateway] = await Promise.all([
      cluster.start("catalog-victim", { app: LEDGER_APP, services: "catalog", ops: true, env: db }),
      cluster.start("catalog-survivor", { app: LEDGER_APP, services: "catalog", ops: true, env: db }),
      cluster.start("gateway", { app: LEDGER_APP, services: "none", gateway: true }),
    ]);
    // Not /readyz: this gateway also routes to orders and ledger, which do not run here.
    const served = (p: FlotillaProcess) =>
      metric(p.opsUrl, ACTION_COUNT, { service: "catalog", action: "getProduct", status: "OK" });
    const get = (n: number) => http(`${gateway.url}/test/products/${ids[n % ids.length]}`, {}, 5_000);

    expect((await get(0)).status).toBe(200);

    // Client loops. Each loop can lose at most one request with the victim (it then waits out that
    // request's deadline), so at most C requests fail. C is above the 5 consecutive failures that open
    // a circuit breaker: without a registry runApp adds none, so losing several requests at once to the
    // dead instance must not shut out the survivor.
    const C = 8;
    const results: Answer[] = [];
    let stop = false;
    const load = loops(C, async () => {
      if (stop) return false;
      results.push(await get(results.length));
      return true;
    });
    try {
      await until(() => results.length >= 300, 20_000, "300 requests before the kill");
      const before = { victim: await served(victim), survivor: await served(survivor) };
      expect(before.victim, "the victim served before its death").toBeGreaterThan(0);
      expect(before.survivor, "the survivor served before the kill").toBeGreaterThan(0);

      const killedAt = Date.now();
      await cluster.signal(victim, "SIGKILL", 5_000);
      const exitedAt = victim.exitedAt() ?? killedAt;
      await until(
        () => results.filter((r) => r.startedAt > exitedAt + 250).length >= 300,
        20_000,
        "300 requests after the kill",
      );
      // Each loop ends once its request in flight is answered: requests lost with the victim included.
      stop = true;
      await withTimeout(load, 10_000, "the load loops to end");

      const failures = results.filter((r) => r.status !== 200);
      const after = results.filter((r) => r.startedAt > exitedAt + 250);
      const shown = failures.slice(0, 10).map((f) => `${f.status} ${errorCode(f)} after ${f.endedAt - f.startedAt} ms`);
      console.info(
        `SIGKILL under load: ${results.length} requests, ${after.length} sent after the victim's death, ` +
          `${failures.length} failed (${shown.join(", ") || "none"}${failures.length > 10 ? ", …" : ""}); ` +
          `victim exited ${exitedAt - killedAt} ms after the signal`,
      );
      // Only requests NATS had already handed to the victim are lost: at most one per client loop.
      // They fail as the route's deadline passes (504; the gateway answers, well before the client's own
      // 5 s timeout), and are not retried: the attempt used the whole deadline. How fast they are answered
      // is measured by the failover benchmark (bench/failover), not asserted here.
      expect(failures.length).toBeLessThanOrEqual(C);
      for (const f of failures) {
        expect([503, 504], JSON.stringify(f)).toContain(f.status);
        expect(f.startedAt, "only requests sent before the victim was gone fail").toBeLessThanOrEqual(exitedAt + 250);
      }
      expect(after.length).toBeGreaterThanOrEqual(300);
      expect(after.every((r) => r.status === 200)).toBe(true);

      // After the kill everything is served by the survivor: it counts exactly the next 100 requests.
      const start = await served(survivor);
      const next = await Promise.all(Array.from({ length: 100 }, (_, n) => get(n)));
      expect(next.filter((r) => r.status !== 200)).toEqual([]);
      expect((await served(survivor)) - start).toBe(100);
    } finally {
      stop = true;
      await withTimeout(load, 10_000, "the load loops to end").catch(() => {});
    }
  });

  it("loses no event when one of two consumer instances is SIGKILLed mid-stream", { timeout: 60_000 }, async () => {
    await cluster.startNats();
    // ack_wait 2 s: the events the dead member held come back to the survivor 2 s after it went silent.
    const transportQuery = "ackWaitMs=2000";
    // 100 ms per event, 4 at once per instance: ~80 events/s for both, below the producer, so a backlog
    // builds and the survivor has work left when the victim's events come back to it.
    // Both instances write the ledger's one database (docs/deployment.md), each row with its writer's pid.
    const ledgerDir = cluster.tempDir("flotilla-ledger-db-");
    const env = { LEDGER_DELAY_MS: "100", LEDGER_MAX_IN_FLIGHT: "4", FLOTILLA_DB_LEDGER: `sqlite:${ledgerDir}` };
    const [victim, survivor, producer] = await Promise.all([
      cluster.start("ledger-victim", { app: LEDGER_APP, services: "ledger", ops: true, transportQuery, env }),
      cluster.start("ledger-survivor", { app: LEDGER_APP, services: "ledger", ops: true, transportQuery, env }),
      cluster.start("producer", {
        app: LEDGER_APP,
        services: "catalog,orders,identity,inventory,payments,shipping,notifications,recommendations,reviews",
        gateway: true,
        transportQuery,
      }),
    ]);
    await gatewayReady(producer, cluster);
    const auth = await signIn(producer);
    const handled = (p: FlotillaProcess) =>
      metric(p.opsUrl, "flotilla_events_handled_total", { type: "orders.OrderPlaced", status: "OK" });

    const M = 240;
    const placed: Answer[] = [];
    let sent = 0;
    const producing = loops(16, async () => {
      const n = sent++;
      if (n >= M) return false;
      placed.push(await placeOrder(producer, auth, n));
      return true;
    });
    // The test watches the victim's rows in the ledger's SQLite file (WAL: a reader in another process
    // never blocks the writers) to kill the victim at a moment it is provably handling an event: one it
    // started < 50 ms ago, with ≥ 50 ms of its 100 ms still to run.
    const file = new Database(join(ledgerDir, "ledger.sqlite"), { readonly: true, fileMustExist: true });
    let placedAtKill = 0;
    let victimRecords: LedgerRecord[];
    let started: Array<{ event_id: string; attempt: number }>;
    try {
      file.pragma("busy_timeout = 2000");
      const count = file.prepare("select count(*) as n from ledger where pid = ?").bind(victim.pid);
      const young = file.prepare(
        "select count(*) as n from ledger_started s where s.pid = ? and s.started_at > ? and not exists " +
          "(select 1 from ledger l where l.event_id = s.event_id)",
      );
      try {
        await until(
          () => {
            const handledSoFar = (count.get() as { n: number }).n;
            const busy = (young.get(victim.pid, new Date(Date.now() - 50).toISOString()) as { n: number }).n;
            if (handledSoFar < 30 || busy === 0) return false;
            victim.child.kill("SIGKILL"); // synchronously after the read: nothing runs in between
            placedAtKill = placed.length;
            return true;
          },
          30_000,
          "the victim to be handling events after it handled 30",
          () => `victim handled ${(count.get() as { n: number }).n}, ${placed.length} orders placed`,
          10,
        );
        await cluster.signal(victim, "SIGKILL", 5_000);
      } finally {
        await withTimeout(producing, 30_000, `${M} orders`);
      }
      // Its records up to its death (committed rows survive a SIGKILL), and what it had started.
      const rows = file.prepare("select * from ledger where pid = ? order by seq").all(victim.pid);
      victimRecords = (rows as Parameters<typeof toRecord>[0][]).map(toRecord);
      started = file
        .prepare("select event_id, attempt from ledger_started where pid = ?")
        .all(victim.pid) as typeof started;
    } finally {
      file.close();
    }
    expect(placed.filter((p) => p.status !== 202)).toEqual([]);
    const orderIds = new Set(placed.map((p) => (p.body as { orderId: string }).orderId));
    expect(orderIds.size).toBe(M);

    const victimEvents = new Set(victimRecords.map((r) => r.eventId));
    const inFlightAtKill = new Set(started.map((s) => s.event_id).filter((id) => !victimEvents.has(id)));

    let survivorRecords: LedgerRecord[] = [];
    const covered = () => new Set([...victimRecords, ...survivorRecords].map((r) => r.orderId));
    await until(
      async () => {
        const res = await http(`${producer.url}/test/ledger`, {}, 5_000);
        // The one ledger holds the victim's rows too: the survivor's are the others.
        if (res.status === 200) {
          survivorRecords = (res.body as { records: LedgerRecord[] }).records.filter((r) => r.pid !== victim.pid);
        }
        const have = covered();
        return [...orderIds].every((id) => have.has(id));
      },
      30_000,
      "every placed order to be in a ledger",
      () => `missing: ${[...orderIds].filter((id) => !covered().has(id)).length} of ${M}`,
      100,
    );

    const all = [...victimRecords, ...survivorRecords];
    const perEvent = new Map<string, number>();
    for (const r of all) perEvent.set(r.eventId, (perEvent.get(r.eventId) ?? 0) + 1);
    const duplicates = [...perEvent.values()].filter((n) => n > 1).length;
    const redelivered = survivorRecords.filter((r) => r.attempt > 1);
    console.info(
      `consumer SIGKILL: ${M} events (${placedAtKill} placed at the kill); victim handled ${victimRecords.length} ` +
        `(${inFlightAtKill.size} in its handlers at the kill); survivor handled ${survivorRecords.length}, ${redelivered.length} of them ` +
        `redeliveries; ${duplicates} events handled twice (at-least-once)`,
    );
    // Nothing lost: every placed order's event was handled by someone, and nothing unexpected appeared.
    expect(perEvent.size).toBe(M);
    expect(new Set(all.map((r) => r.orderId))).toEqual(orderIds);
    expect(new Set(survivorRecords.map((r) => r.pid))).toEqual(new Set([survivor.pid]));
    expect(await handled(survivor)).toBe(survivorRecords.length); // its metrics agree with its ledger
    // The events the victim was handling when it died went to the survivor, as redeliveries.
    expect(inFlightAtKill.size).toBeGreaterThan(0);
    const survivorRedelivered = new Set(redelivered.map((r) => r.eventId));
    for (const id of inFlightAtKill) expect(survivorRedelivered.has(id), `event ${id} redelivered`).toBe(true);
    // A duplicate can only be an event whose effect committed in the victim before its ack was sent.
    for (const [id, n] of perEvent) if (n > 1) expect(victimEvents.has(id) && survivorRedelivered.has(id)).toBe(true);
  });

  it("answers 503 fast while NATS is down, then recovers on its own", { timeout: 60_000 }, async () => {
    const { gateway, results, downAt, upAt, recoveredAt } = await natsOutageUnderLoad(cluster, 20_000);

    const failures = results.filter((r) => r.status !== 200);
    const codes = new Map<string, number>();
    for (const f of failures)
      codes.set(`${f.status} ${errorCode(f)}`, (codes.get(`${f.status} ${errorCode(f)}`) ?? 0) + 1);
    const slowest = Math.max(...results.map((r) => r.endedAt - r.startedAt));
    console.info(
      `NATS outage: restart took ${upAt - downAt} ms, requests succeeded again ${recoveredAt - upAt} ms later; ` +
        `${results.length} requests, ${failures.length} failed (${[...codes].map(([k, n]) => `${k} ×${n}`).join(", ")}); ` +
        `slowest answer ${slowest} ms`,
    );
    // Nothing hangs: every request was answered by the gateway, none cut off by the client's 6 s timeout.
    // (The slowest answer and the recovery time are measured by bench/failover, not asserted here.)
    expect(results.every((r) => r.status !== 0)).toBe(true);
    // During the outage the gateway answers 503 FLOTILLA_DISCONNECTED (its own link to NATS is down;
    // UNAVAILABLE for a call cut off mid-flight), FLOTILLA_NO_INSTANCE while catalog has not reconnected
    // yet. All are of status UNAVAILABLE: retryable and transient.
    const outageCodes = ["FLOTILLA_DISCONNECTED", "UNAVAILABLE"];
    expect(
      failures.some((f) => f.endedAt >= downAt && f.endedAt <= upAt && outageCodes.includes(errorCode(f) ?? "")),
    ).toBe(true);
    for (const f of failures) {
      expect(f.status, JSON.stringify(f)).toBe(503);
      expect([...outageCodes, "FLOTILLA_NO_INSTANCE"]).toContain(errorCode(f));
      expect(f.endedAt).toBeGreaterThanOrEqual(downAt);
      expect(f.startedAt, "no failure once requests succeed again").toBeLessThan(recoveredAt);
    }
    // After the broker returns, the same processes serve reads and writes (events go to JetStream again).
    await gatewayReady(gateway, cluster, 10_000);
    const auth = await signIn(gateway);
    const placed = await placeOrder(gateway, auth, 1);
    expect(placed.status, JSON.stringify(placed.body)).toBe(202);
    const orderUrl = `${gateway.url}/api/v1/orders/${(placed.body as { orderId: string }).orderId}`;
    const read = await http(orderUrl, { headers: auth });
    expect(read.status).toBe(200);
    expect(cluster.processes.every((p) => p.exitedAt() === undefined)).toBe(true);
  });
});
