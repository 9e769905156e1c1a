import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventSource } from "../../../test/support/event-source.js";
import { identity } from "../identity/contract.js";
import { orders } from "../orders/contract.js";
import { notifications } from "./contract.js";
import type { EmailLine } from "./email-file.js";
import { createNotificationsService } from "./service.js";

const created: Array<{ userId: string; notification: { id: string; kind: string } }> = [];
const observer = defineService(defineContract({ service: "observer" }), {
  actions: {},
  subscriptions: {
    created: {
      event: notifications.NotificationCreated,
      handle: async (data) => {
        created.push(data);
      },
    },
  },
});

const identitySource = eventSource("identity");
const ordersSource = eventSource("orders");
const dir = mkdtempSync(join(tmpdir(), "shop-notifications-"));
const emailFile = join(dir, "mail", "emails.jsonl");

function emails(): EmailLine[] {
  if (!existsSync(emailFile)) return [];
  return readFileSync(emailFile, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as EmailLine);
}

const caller = (userId: string) => ({ caller: { subject: userId, roles: ["customer"] } });

describe("notifications service", () => {
  let host: Host;
  beforeAll(async () => {
    host = createHost({
      services: [
        identitySource.service,
        ordersSource.service,
        createNotificationsService({ emailFile, emailEveryMs: 20 }),
        observer,
      ],
      resources: [sqliteDatabases({ dataDir: ":memory:" })],
      transport: "memory://?faithful=1",
      validateOutput: true,
    });
    await host.start();
  });
  afterAll(async () => {
    await host.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const list = (userId: string, limit = 100) => host.call(notifications.listNotifications, { limit }, caller(userId));
  const register = (userId: string, name: string, email: string) =>
    identitySource.emit(host, identity.UserRegistered, { userId, name, email });
  type Status = "pending" | "confirmed" | "rejected" | "cancelled" | "shipped";
  const status = async (orderId: string, customerId: string, s: Status, failureReason?: string) => {
    // Notifications are ordered by their event's time: two emitted within one millisecond would tie.
    await new Promise((resolve) => setTimeout(resolve, 2));
    await ordersSource.emit(host, orders.OrderStatusChanged, {
      orderId,
      customerId,
      status: s,
      ...(failureReason ? { failureReason } : {}),
    });
  };

  it("welcomes a new user by name, emails them and announces the notification to them", async () => {
    await register("ada", "Ada", "ada@example.org");
    await expect.poll(async () => (await list("ada")).items).toHaveLength(1);
    const [welcome] = (await list("ada")).items;
    expect(welcome).toMatchObject({ kind: "welcome", read: false, title: "Welcome to the Flotilla shop" });
    expect(welcome!.body).toMatch(/^Hello Ada, /);
    expect(welcome).not.toHaveProperty("orderId");
    await expect.poll(() => created).toContainEqual({ userId: "ada", notification: welcome });
    await expect.poll(() => emails().filter((e) => e.to === "ada@example.org")).toHaveLength(1);
    expect(emails().find((e) => e.to === "ada@example.org")).toEqual({
      id: expect.any(String),
      to: "ada@example.org",
      subject: welcome!.title,
      body: welcome!.body,
      at: welcome!.createdAt,
    });
  });

  it("tells the customer of each status but pending, naming the order and the reason", async () => {
    await register("bob", "Bob", "bob@example.org");
    await expect.poll(async () => (await list("bob")).items).toHaveLength(1);
    await status("order-b1-0000", "bob", "pending");
    await status("order-b1-0000", "bob", "confirmed");
    await status("order-b1-0000", "bob", "shipped");
    await status("order-b2-0000", "bob", "rejected", "OUT_OF_STOCK");
    await status("order-b3-0000", "bob", "cancelled", "DESTINATION_NOT_SERVED");
    await status("order-b4-0000", "bob", "rejected", "SOMETHING_NEW");
    await expect.poll(async () => (await list("bob")).items).toHaveLength(6);
    const byKind = (await list("bob")).items.map((n) => [n.kind, n.orderId ?? null, n.title, n.body]);
    expect(byKind).toEqual([
      [
        "order.rejected",
        "order-b4-0000",
        "Order #order-b4 not accepted",
        "Hello Bob, we could not accept your order #order-b4: SOMETHING_NEW.",
      ],
      [
        "order.cancelled",
        "order-b3-0000",
        "Order #order-b3 cancelled",
        "Hello Bob, your order #order-b3 was cancelled: we cannot deliver to the shipping address. Any payment for it is refunded.",
      ],
      [
        "order.rejected",
        "order-b2-0000",
        "Order #order-b2 not accepted",
        "Hello Bob, we could not accept your order #order-b2: an item is out of stock.",
      ],
      ["order.shipped", "order-b1-0000", "Order #order-b1 shipped", "Hello Bob, your order #order-b1 is on its way."],
      [
        "order.confirmed",
        "order-b1-0000",
        "Order #order-b1 confirmed",
        "Hello Bob, your order #order-b1 is confirmed. We will tell you when it ships.",
      ],
      ["welcome", null, "Welcome to the Flotilla shop", expect.stringMatching(/^Hello Bob, /)],
    ]);
    await expect.poll(() => emails().filter((e) => e.to === "bob@example.org")).toHaveLength(6);
  });

  it("makes one notification per order status however often the event comes", async () => {
    await register("cy", "Cy", "cy@example.org");
    await status("order-c1", "cy", "confirmed");
    await status("order-c1", "cy", "confirmed");
    await status("order-c1", "cy", "shipped");
    await expect
      .poll(async () => (await list("cy")).items.map((n) => n.kind).sort())
      .toEqual(["order.confirmed", "order.shipped", "welcome"]);
    await expect.poll(() => emails().filter((e) => e.to === "cy@example.org")).toHaveLength(3);
  });

  it("follows UserUpdated: later texts and emails use the new name and address", async () => {
    await register("dee", "Dee", "dee@example.org");
    await expect.poll(async () => (await list("dee")).items).toHaveLength(1);
    const profile = { id: "dee", name: "Deirdre", email: "deirdre@example.org", address: null };
    await identitySource.emit(host, identity.UserUpdated, profile);
    // Applied by another subscription: wait for it through its effect on the next notification.
    await expect
      .poll(async () => {
        await status(`order-d-${Date.now()}`, "dee", "confirmed");
        return (await list("dee", 1)).items[0]?.body;
      })
      .toMatch(/^Hello Deirdre, /);
    await expect.poll(() => emails().some((e) => e.to === "deirdre@example.org")).toBe(true);
  });

  it("still notifies a customer it knows no name or email of, without emailing", async () => {
    await status("order-e1", "stranger", "shipped");
    await expect.poll(async () => (await list("stranger")).items).toHaveLength(1);
    expect((await list("stranger")).items[0]!.body).toBe("Hello, your order #order-e1 is on its way.");
    await expect.poll(() => created.some((c) => c.userId === "stranger")).toBe(true);
    // An email queued after it is written: had there been one for the stranger, it would be there too.
    await status("order-e2", "ada", "shipped");
    await expect.poll(() => emails().some((e) => e.body.includes("#order-e2"))).toBe(true);
    expect(emails().some((e) => e.body.includes("#order-e1"))).toBe(false);
  });

  it("pages through the caller's own notifications newest first", async () => {
    await register("eve", "Eve", "eve@example.org");
    for (let i = 0; i < 5; i++) await status(`order-f${i}`, "eve", "confirmed");
    await expect.poll(async () => (await list("eve")).items).toHaveLength(6);
    const all = (await list("eve")).items;
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await host.call(
        notifications.listNotifications,
        { limit: 4, ...(cursor ? { cursor } : {}) },
        caller("eve"),
      );
      seen.push(...page.items.map((n) => n.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all.map((n) => n.id));
    const times = all.map((n) => n.createdAt);
    expect(times).toEqual([...times].sort().reverse());
    expect((await list("nobody")).items).toEqual([]);
    await expect(
      host.call(notifications.listNotifications, { cursor: "garbage" }, caller("eve")),
    ).rejects.toMatchObject({ code: "INVALID_CURSOR", status: "INVALID_ARGUMENT" });
  });

  it("marks the caller's own notification read, and no one else's", async () => {
    await register("fay", "Fay", "fay@example.org");
    await expect.poll(async () => (await list("fay")).items).toHaveLength(1);
    const [mine] = (await list("fay")).items;
    await expect(host.call(notifications.markRead, { id: mine!.id }, caller("ada"))).rejects.toMatchObject({
      code: "NOTIFICATION_NOT_FOUND",
      status: "NOT_FOUND",
    });
    expect((await list("fay")).items[0]!.read).toBe(false);
    expect(await host.call(notifications.markRead, { id: mine!.id }, caller("fay"))).toEqual({ read: true });
    expect(await host.call(notifications.markRead, { id: mine!.id }, caller("fay"))).toEqual({ read: true });
    expect((await list("fay")).items[0]!.read).toBe(true);
    await expect(host.call(notifications.markRead, { id: "nope" }, caller("fay"))).rejects.toMatchObject({
      code: "NOTIFICATION_NOT_FOUND",
    });
  });

  it("needs a signed-in caller", async () => {
    await expect(host.call(notifications.listNotifications, {})).rejects.toMatchObject({
      code: "SIGN_IN_REQUIRED",
      status: "UNAUTHENTICATED",
    });
    await expect(host.call(notifications.markRead, { id: "x" })).rejects.toMatchObject({ code: "SIGN_IN_REQUIRED" });
  });
});
