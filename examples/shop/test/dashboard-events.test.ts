/**
 * The dashboard's Event flow and Dead letters views on the shop, embedded (the in-process transport and its
 * journal) and split over a real nats-server: a welcome handler that really fails dead-letters new users'
 * events, which are then retried (and handled), dropped, and acted on in bulk, each action audited; the flow
 * shows stage times and lag after a checkout, and live messages arrive with sensitive fields redacted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, type RunOptions, runApp } from "@flotilla/app";
import { MemoryRegistry } from "@flotilla/core";
import { type NatsServerHandle, startNatsServer, waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../src/app.js";
import {
  api,
  breakWelcomes,
  followStream,
  healWelcomes,
  register,
  WELCOME_GROUP,
  welcomed,
} from "./support/event-views.js";
import { ADDRESS, CARDS, type Headers, type Json, ShopClient } from "./support/shop-client.js";

const SLOW = { timeoutMs: 30_000, intervalMs: 100 };

function eventViews(name: string, options: () => Promise<Partial<RunOptions>>, teardown: () => Promise<void>) {
  describe(`the Event flow and Dead letters views, ${name}`, () => {
    let shop: RunningApp;
    let dataDir: string;
    let url: string;
    let admin: Headers;
    let adminSubject: string;
    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-events-"));
      shop = await runApp(shopApp, {
        dataDir,
        gatewayPort: 0,
        listenHost: "127.0.0.1",
        dashboard: {},
        ...(await options()),
      });
      url = shop.url ?? "";
      admin = await new ShopClient(url).signIn("admin@flotilla.dev", "admin-password");
      const token = (admin.authorization ?? "").slice("Bearer ".length);
      adminSubject = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()).sub;
    }, 60_000);
    afterAll(async () => {
      await shop?.stop();
      await teardown();
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    });

    it("lists the panels, admin only", async () => {
      const { body } = await api(url, admin, "panels");
      expect(body.panels.map((p: Json) => p.id)).toEqual(expect.arrayContaining(["flow", "dead-letters"]));
      const customer = await new ShopClient(url).signIn("demo@flotilla.dev", "demo-password");
      for (const path of ["flow", "dead-letters", "dead-letters/audit"]) {
        expect((await api(url, {}, path)).status, path).toBe(401);
        expect((await api(url, customer, path)).status, path).toBe(403);
      }
      expect((await api(url, customer, "dead-letters/retry", { ids: ["1"] })).status).toBe(403);
    });

    it("shows each event type's stages and each group's lag after a checkout", async () => {
      const client = new ShopClient(url);
      const demo = await client.signIn("demo@flotilla.dev", "demo-password");
      const placed = await client.placeOrder(demo, {
        items: [{ productId: "prod-french-press", quantity: 1 }],
        payment: { card: CARDS.ok },
        shipping: ADDRESS,
      });
      expect(placed.status).toBe(202);
      await client.settled(demo, placed.body.orderId);
      let changed: Json;
      await waitFor(
        async () => {
          const { body } = await api(url, admin, "flow");
          changed = body.types.find((t: Json) => t.type === "orders.OrderStatusChanged");
          const group = changed?.groups.find((g: Json) => g.name === "notifications.orderStatusChanged");
          return group?.handler?.count > 0 && group?.wait !== undefined && changed.emit?.count > 0;
        },
        { ...SLOW, what: "stage times of orders.OrderStatusChanged" },
      );
      expect(changed.publisher).toBe("orders");
      expect(changed.lastMinute).toBeGreaterThan(0);
      const group = changed.groups.find((g: Json) => g.name === "notifications.orderStatusChanged");
      expect(group).toMatchObject({ deadLetters: 0 });
      // Every group of this app has a member in this process: its lag is read, a number.
      expect(typeof group.lag).toBe("number");
      expect(group.handler.p50Ms).toBeGreaterThanOrEqual(0);
      expect(group.handler.p95Ms).toBeGreaterThanOrEqual(group.handler.p50Ms);
      expect(group.transaction.count).toBeGreaterThan(0);
    });

    it("sends live messages with sensitive fields redacted, and shows one event's path", async () => {
      const stream = await followStream(url, admin, "flow.messages");
      let message: Json;
      try {
        // The watch starts with the stream: register users until one's event arrives.
        let n = 0;
        await waitFor(
          async () => {
            await register(url, `live-${n++}@example.org`);
            message = stream.events.find((e) => e.data.type === "identity.UserRegistered")?.data;
            return message !== undefined;
          },
          { ...SLOW, intervalMs: 300, what: "a live identity.UserRegistered" },
        );
      } finally {
        stream.stop();
      }
      expect(message).toMatchObject({ type: "identity.UserRegistered", source: expect.any(String), dropped: 0 });
      expect(message.data).toMatchObject({ email: "[redacted]", name: "Grace Hopper", userId: expect.any(String) });
      expect(JSON.stringify(message)).not.toContain("@example.org");

      let path: Json;
      await waitFor(
        async () => {
          const res = await api(url, admin, `flow/event/${message.id}`);
          path = res.body;
          return res.status === 200 && path.deliveries.some((d: Json) => d.group === WELCOME_GROUP);
        },
        { ...SLOW, what: "the event's path" },
      );
      expect(path).toMatchObject({ id: message.id, type: "identity.UserRegistered", emit: { service: "identity" } });
      const welcome = path.deliveries.find((d: Json) => d.group === WELCOME_GROUP);
      expect(welcome).toMatchObject({ service: "notifications", attempt: 1, ok: true });
      expect(welcome.waitMs).toBeGreaterThanOrEqual(0);
      expect(welcome.transactionMs).toBeGreaterThan(0);
      expect((await api(url, admin, "flow/event/no-such-event")).status).toBe(404);
    });

    it("retries, drops and acts in bulk on dead letters, each action audited", async () => {
      breakWelcomes(dataDir);
      const users: string[] = [];
      for (const who of ["dl-a", "dl-b", "dl-c", "dl-d"]) users.push(await register(url, `${who}@example.org`));
      let letters: Json[] = [];
      await waitFor(
        async () => {
          const { body } = await api(url, admin, `dead-letters?group=${WELCOME_GROUP}`);
          letters = body.letters;
          return body.total === 4;
        },
        { ...SLOW, what: "four dead letters" },
      );
      healWelcomes(dataDir);
      // Newest first.
      const byUser = new Map<string, Json>();
      for (const l of letters) {
        const { body } = await api(url, admin, `dead-letters/letter/${l.id}`);
        byUser.set(body.event.data.userId, body);
      }
      const [a, b, c, d] = users.map((u) => byUser.get(u));
      expect(a).toMatchObject({ group: WELCOME_GROUP, type: "identity.UserRegistered", attempts: 5 });
      expect(a.error.code).toBeTruthy();
      expect(a.event.data).toMatchObject({ email: "[redacted]", name: "Grace Hopper" });
      expect(JSON.stringify(a)).not.toContain("@example.org");
      expect(a.history).toEqual({ sameEvent: [], audit: [] });

      const retried = await api(url, admin, "dead-letters/retry", { ids: [a.id] });
      expect(retried.body).toEqual({ results: [{ id: a.id, outcome: "ok" }] });
      await waitFor(() => welcomed(dataDir, users[0] as string), { ...SLOW, what: "the retried welcome" });
      expect((await api(url, admin, `dead-letters/letter/${a.id}`)).status).toBe(404);

      const dropped = await api(url, admin, "dead-letters/drop", { ids: [b.id] });
      expect(dropped.body.results).toEqual([{ id: b.id, outcome: "ok" }]);
      expect(welcomed(dataDir, users[1] as string)).toBe(false);

      // One bulk action: the failures are reported and do not stop the rest.
      const bulk = await api(url, admin, "dead-letters/retry", { ids: [c.id, "999999", "not-an-id", d.id] });
      expect(bulk.status).toBe(200);
      expect(bulk.body.results.map((r: Json) => [r.id, r.outcome])).toEqual([
        [c.id, "ok"],
        ["999999", "NOT_FOUND"],
        ["not-an-id", "INVALID_ARGUMENT"],
        [d.id, "ok"],
      ]);
      await waitFor(() => welcomed(dataDir, users[2] as string) && welcomed(dataDir, users[3] as string), {
        ...SLOW,
        what: "the bulk-retried welcomes",
      });
      // Only the welcomes' group: while the table was away, a shipped order's notification may have failed too.
      await waitFor(async () => (await api(url, admin, `dead-letters?group=${WELCOME_GROUP}`)).body.total === 0, SLOW);
      expect((await api(url, admin, "dead-letters/retry", { ids: [] })).status).toBe(400);

      const { body: audit } = await api(url, admin, "dead-letters/audit");
      const mine = audit.entries.filter((e: Json) => e.action.startsWith("dead-letter."));
      expect(mine.map((e: Json) => [e.action, e.outcome])).toEqual([
        ["dead-letter.retry", "ok"],
        ["dead-letter.retry", "INVALID_ARGUMENT"],
        ["dead-letter.retry", "NOT_FOUND"],
        ["dead-letter.retry", "ok"],
        ["dead-letter.drop", "ok"],
        ["dead-letter.retry", "ok"],
      ]);
      for (const e of mine) {
        expect(e.who).toBe(adminSubject);
        expect(Math.abs(Date.now() - e.at)).toBeLessThan(120_000);
      }
      expect(mine.at(-1).target).toBe(`event ${a.eventId} letter ${a.id}`);
    }, 90_000);
  });
}

eventViews(
  "embedded",
  async () => ({ registry: new MemoryRegistry() }),
  async () => {},
);

let nats: NatsServerHandle | undefined;
eventViews(
  "over NATS JetStream",
  async () => {
    nats = await startNatsServer({ jetstream: true });
    return { transport: nats.url, registry: nats.url };
  },
  async () => {
    await nats?.stop();
  },
);
