/**
 * Live push end to end, the shop embedded: a real EventSource and a real WebSocket client see their own
 * order's status change as it happens, nobody else's; a resume replays what was missed; limits hold.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionCounter, type CountedShop, startCountedShop } from "./support/attack.js";
import { type LiveClient, type LiveMessage, openEventSource, openWebSocket, tokenOf } from "./support/live-clients.js";
import { ADDRESS, CARDS, type Headers, ShopClient } from "./support/shop-client.js";

const order = (productId: string) => ({
  items: [{ productId, quantity: 1 }],
  payment: { card: CARDS.ok },
  shipping: ADDRESS,
});

const statusOf = (orderId: string, status: string) => (m: LiveMessage) =>
  (m.type === "orders.OrderStatusChanged" && m.data.orderId === orderId && m.data.status === status) ||
  (status === "pending" && m.type === "orders.OrderPlaced" && m.data.orderId === orderId);

const mentions = (orderId: string) => (m: LiveMessage) => JSON.stringify(m.data).includes(orderId);

describe("live push, embedded", () => {
  let shop: CountedShop;
  let client: ShopClient;
  let demo: Headers;
  let other: Headers;
  const open: LiveClient[] = [];
  beforeAll(async () => {
    shop = await startCountedShop(actionCounter(), {
      env: { FLOTILLA_RATE_LIMIT: "1000000/1", SHOP_DISPATCH_DELAY_MS: "200", SHOP_DISPATCH_SWEEP_MS: "100" },
    });
    client = new ShopClient(shop.url);
    demo = await client.signIn("demo@flotilla.dev", "demo-password");
    const email = `live-${randomUUID()}@example.org`;
    const registered = await client.send(
      "POST",
      "/api/v1/auth/register",
      {},
      { email, password: "other-password", name: "O" },
    );
    expect(registered.status).toBe(201);
    other = await client.signIn(email, "other-password");
  }, 60_000);
  afterAll(async () => {
    for (const c of open) c.close();
    await shop?.stop();
  });
  const track = <C extends LiveClient>(c: C): C => {
    open.push(c);
    return c;
  };

  /** Places an order as `who` and returns its id once the buyer's live stream has seen it shipped. */
  async function placeAndFollow(who: Headers, live: LiveClient): Promise<string> {
    const placed = await client.placeOrder(who, order("prod-french-press"));
    expect(placed.status).toBe(202);
    const orderId = placed.body.orderId as string;
    for (const status of ["pending", "confirmed", "shipped"])
      await live.next(statusOf(orderId, status), `${status} of ${orderId}`);
    return orderId;
  }

  it("an EventSource sees its buyer's order go pending → confirmed → shipped, and the notifications; another user sees none of it", async () => {
    const mine = track(await openEventSource(shop.url, tokenOf(demo)));
    const theirs = track(await openEventSource(shop.url, tokenOf(other)));
    const orderId = await placeAndFollow(demo, mine);
    const statuses = mine.messages
      .filter(mentions(orderId))
      .filter((m) => m.type !== "notifications.NotificationCreated");
    expect(statuses.map((m) => (m.type === "orders.OrderPlaced" ? "pending" : m.data.status))).toEqual([
      "pending",
      "confirmed",
      "shipped",
    ]);
    await mine.next((m) => m.type === "notifications.NotificationCreated", "a notification");
    // Ids are positions: they grow, so a client can drop a repeat.
    const ids = mine.messages.map((m) => Number(m.id.split(":").at(-1)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(mine.messages.map((m) => m.eventId)).size).toBe(mine.messages.length);
    // The other user's own order comes later in the same history: once they see it, they would have seen demo's.
    const theirOrder = await placeAndFollow(other, theirs);
    expect(theirs.messages.filter(mentions(orderId))).toEqual([]);
    expect(mine.messages.filter(mentions(theirOrder))).toEqual([]);
  }, 60_000);

  it("resumes from Last-Event-ID: what was missed while away is replayed, then live", async () => {
    const first = track(await openEventSource(shop.url, tokenOf(demo)));
    const lastSeen = first.readyId;
    first.close();
    const placed = await client.placeOrder(demo, order("prod-french-press"));
    const orderId = placed.body.orderId as string;
    await client.settled(demo, orderId, new Set(["shipped"]));
    const back = track(await openEventSource(shop.url, tokenOf(demo), { "last-event-id": lastSeen }));
    // Replayed before `ready`: already there.
    const replayed = back.messages.filter(mentions(orderId)).filter((m) => m.type.startsWith("orders."));
    expect(replayed.map((m) => (m.type === "orders.OrderPlaced" ? "pending" : m.data.status))).toEqual([
      "pending",
      "confirmed",
      "shipped",
    ]);
    expect(back.readyId).not.toBe(lastSeen);
    // Resuming from the newest id replays nothing.
    const again = track(await openEventSource(shop.url, tokenOf(demo), { "last-event-id": back.readyId }));
    expect(again.messages).toEqual([]);
  }, 60_000);

  it("a WebSocket on the same path, with access_token, sees the same", async () => {
    const ws = track(await openWebSocket(shop.url, tokenOf(demo)));
    const orderId = await placeAndFollow(demo, ws);
    expect(ws.messages.filter(mentions(orderId)).length).toBeGreaterThanOrEqual(3);
    const resumed = track(await openWebSocket(shop.url, tokenOf(demo), ws.messages[0]?.id));
    expect(resumed.messages.some(statusOf(orderId, "shipped"))).toBe(true);
  }, 60_000);

  it("refuses anonymous callers, malformed ids, and a caller's connections past the limit", async () => {
    const anonymous = await fetch(`${shop.url}/api/v1/live`);
    expect(anonymous.status).toBe(401);
    const badId = await fetch(`${shop.url}/api/v1/live`, { headers: { ...other, "last-event-id": "nonsense" } });
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { error: { code: string } }).error.code).toBe("FLOTILLA_BAD_LAST_EVENT_ID");
    await expect(openWebSocket(shop.url, "not-a-token")).rejects.toThrow(/401/);
    for (const c of open) c.close();
    open.length = 0;
    for (let i = 0; i < 5; i++) track(await openEventSource(shop.url, tokenOf(other)));
    const sixth = await fetch(`${shop.url}/api/v1/live`, { headers: other });
    expect(sixth.status).toBe(429);
    expect(((await sixth.json()) as { error: { code: string } }).error.code).toBe("FLOTILLA_TOO_MANY_LIVE_CONNECTIONS");
    // Closing one makes room again (the gateway notices the client left).
    open.pop()?.close();
    const fresh = track(await openEventSource(shop.url, tokenOf(other)));
    expect(fresh.readyId).not.toBe("");
  }, 60_000);
});
