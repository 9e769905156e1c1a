/**
 * Live push's bounds at the gateway: a client that stops reading is dropped (its buffer never grows past
 * the bound), connections per user and in total are limited, heartbeats flow, unmarked events go nowhere.
 */
import { connect, type Socket } from "node:net";
import { action, createHost, defineContract, defineService, EVERYONE, event, type Host } from "@flotilla/core";
import { waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createGateway, type Gateway, type LiveMetrics, type Policy } from "../../src/index.js";

const news = defineContract({
  service: "news",
  actions: {
    publish: action({
      input: z.object({ user: z.string().optional(), count: z.number().int(), size: z.number().int() }),
      output: z.undefined(),
    }),
    announce: action({ input: z.object({ text: z.string() }), output: z.undefined() }),
  },
  events: {
    Story: event({ schema: z.object({ user: z.string().optional(), text: z.string() }), audience: (s) => s.user }),
    Announcement: event({ schema: z.object({ text: z.string() }), audience: () => EVERYONE }),
  },
});
const newsService = defineService(news, {
  actions: {
    async publish({ user, count, size }, ctx) {
      for (let i = 0; i < count; i++) await ctx.emit(news.Story, { ...(user ? { user } : {}), text: "x".repeat(size) });
    },
    async announce({ text }, ctx) {
      await ctx.emit(news.Announcement, { text });
    },
  },
});

/** The caller named by `x-user`: these tests are about live push, not about tokens. */
const userHeader: Policy = {
  name: "user-header",
  onRequest(exchange) {
    const user = exchange.request.headers["x-user"];
    if (typeof user === "string") exchange.caller = { subject: user, roles: [] };
  },
};

function countingMetrics() {
  const counts = { opened: 0, closed: 0, pushed: 0, dropped: 0, refusedUser: 0, refusedTotal: 0 };
  const metrics: LiveMetrics = {
    opened: () => void counts.opened++,
    closed: () => void counts.closed++,
    pushed: (_p, n) => {
      counts.pushed += n;
    },
    replayed: () => undefined,
    droppedSlow: () => void counts.dropped++,
    refused: (reason) => void (reason === "user" ? counts.refusedUser++ : counts.refusedTotal++),
  };
  return { counts, metrics };
}

/** A raw HTTP client: sends the request, keeps what arrives until paused. */
function rawLive(url: string, user: string, lastEventId?: string): { socket: Socket; text: () => string } {
  const { hostname, port } = new URL(url);
  let text = "";
  const resume = lastEventId === undefined ? "" : `last-event-id: ${lastEventId}\r\n`;
  const socket = connect(Number(port), hostname, () => {
    socket.write(
      `GET /live HTTP/1.1\r\nhost: ${hostname}\r\nx-user: ${user}\r\naccept: text/event-stream\r\n${resume}\r\n`,
    );
  });
  socket.on("data", (d) => {
    text += d.toString();
  });
  socket.on("error", () => undefined);
  return { socket, text: () => text };
}

describe("live push limits", () => {
  let host: Host;
  let gateway: Gateway;
  let url: string;
  const { counts, metrics } = countingMetrics();
  beforeAll(async () => {
    host = createHost({ services: [newsService] });
    await host.start();
    gateway = createGateway({
      host,
      routes: [],
      policies: [userHeader],
      accessLog: false,
      live: {
        path: "/live",
        events: [news.Story, news.Announcement],
        heartbeatMs: 20,
        maxBufferedBytes: 16 * 1024,
        maxConnectionsPerUser: 2,
        maxConnections: 3,
        metrics,
      },
    });
    url = await gateway.listen();
  });
  afterAll(async () => {
    await gateway?.close();
    await host?.stop();
  });

  it("sends heartbeats and drops a client that stops reading, instead of buffering for it", async () => {
    const slow = rawLive(url, "slow");
    await waitFor(() => slow.text().includes("event: ready") && slow.text().includes(": heartbeat"), {
      what: "ready and a heartbeat",
    });
    slow.socket.pause();
    // 16 MB for a client that reads nothing: more than the kernel's socket buffers hold.
    await host.call(news.publish, { user: "slow", count: 2_000, size: 8 * 1024 });
    await waitFor(() => counts.dropped === 1, { timeoutMs: 30_000, what: "the slow client to be dropped" });
    expect(counts.pushed).toBeLessThan(2_000);
    slow.socket.destroy();
    await waitFor(() => counts.closed === counts.opened, { what: "the connection to be forgotten" });
  }, 60_000);

  it("limits connections per user (429) and in total (503), with the gateway's error body", async () => {
    const held = [rawLive(url, "u1"), rawLive(url, "u1"), rawLive(url, "u2")];
    await waitFor(() => held.every((c) => c.text().includes("event: ready")), { what: "three connections" });
    const third = await fetch(`${url}/live`, { headers: { "x-user": "u1" } });
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe("FLOTILLA_TOO_MANY_LIVE_CONNECTIONS");
    const full = await fetch(`${url}/live`, { headers: { "x-user": "u3" } });
    expect(full.status).toBe(503);
    expect(((await full.json()) as { error: { code: string } }).error.code).toBe("FLOTILLA_LIVE_FULL");
    expect(counts).toMatchObject({ refusedUser: 1, refusedTotal: 1 });
    for (const c of held) c.socket.destroy();
    await waitFor(() => counts.closed === counts.opened, { what: "the connections to be forgotten" });
  });

  it("pushes an event only to the user it is marked for; an unmarked one to no one", async () => {
    const u1 = rawLive(url, "u1");
    const u2 = rawLive(url, "u2");
    await waitFor(() => u1.text().includes("event: ready") && u2.text().includes("event: ready"), { what: "ready" });
    await host.call(news.publish, { count: 1, size: 3 }); // unmarked
    await host.call(news.publish, { user: "u2", count: 1, size: 5 });
    await host.call(news.publish, { user: "u1", count: 1, size: 7 });
    await waitFor(() => u1.text().includes("xxxxxxx"), { what: "u1's story" });
    // Published in this order on one transport: by now u2 would have had u1's and the unmarked one.
    await waitFor(() => u2.text().includes('"xxxxx"'), { what: "u2's story" });
    expect(u1.text()).not.toContain('"xxx"');
    expect(u1.text()).not.toContain('"xxxxx"');
    expect(u2.text()).not.toContain('"xxx"');
    expect(u2.text()).not.toContain("xxxxxxx");
    u1.socket.destroy();
    u2.socket.destroy();
  });

  it("pushes an event marked for EVERYONE to every connection, and replays it to a caller resuming", async () => {
    await waitFor(() => counts.closed === counts.opened, { what: "earlier connections to be forgotten" });
    const u1 = rawLive(url, "u1");
    const u2 = rawLive(url, "u2");
    await waitFor(() => u1.text().includes("event: ready") && u2.text().includes("event: ready"), { what: "ready" });
    const readyId = /event: ready\nid: (\S*)/.exec(u2.text())?.[1] as string;
    await host.call(news.announce, { text: "sale-starts" });
    await host.call(news.publish, { user: "u2", count: 1, size: 9 });
    await host.call(news.announce, { text: "sale-ends" });
    for (const c of [u1, u2]) await waitFor(() => c.text().includes("sale-ends"), { what: "both announcements" });
    expect(u1.text()).toContain("sale-starts");
    expect(u1.text()).not.toContain("xxxxxxxxx");
    u2.socket.destroy();
    await waitFor(() => counts.closed === counts.opened - 1, { what: "u2's connection to be forgotten" });
    // Resumed from before all three: its own story and both announcements, in the order they came.
    const again = rawLive(url, "u2", readyId);
    await waitFor(() => again.text().includes("sale-ends"), { what: "the replay" });
    const order = ["sale-starts", "xxxxxxxxx", "sale-ends"].map((t) => again.text().indexOf(t));
    expect(order.every((at, i) => at > 0 && (i === 0 || at > (order[i - 1] as number)))).toBe(true);
    u1.socket.destroy();
    again.socket.destroy();
  });
});
