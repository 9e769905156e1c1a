/**
 * Invalidation across gateways: two gateway processes' worth of hosts and a service host over a real
 * nats-server; one event drops the entry on both, each gateway having cached the answer itself.
 */
import { createHost, type Host } from "@flotilla/core";
import { natsTransport } from "@flotilla/nats";
import { type NatsServerHandle, startNatsServer, waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.js";
import { ShelfState, shelf, shelfService, userHeader } from "./shelf.js";
import { type Counted, cachedRoutes, countingMetrics, get } from "./support.js";

interface EdgeProcess {
  readonly host: Host;
  readonly gateway: Gateway;
  readonly url: string;
  readonly counts: Counted;
}

describe("invalidation on every gateway, over NATS", () => {
  let nats: NatsServerHandle;
  let service: Host;
  const state = new ShelfState();
  const edges: EdgeProcess[] = [];
  const over = (url: string) => ({ transport: url, transports: { nats: natsTransport } });

  beforeAll(async () => {
    nats = await startNatsServer();
    service = createHost({ ...over(nats.url), services: [shelfService(state)] });
    await service.start();
    for (let i = 0; i < 2; i++) {
      const host = createHost(over(nats.url));
      await host.start();
      const { counts, metrics } = countingMetrics();
      const gateway = createGateway({
        host,
        routes: cachedRoutes,
        policies: [userHeader],
        accessLog: false,
        cache: { metrics },
      });
      edges.push({ host, gateway, url: await gateway.listen(), counts });
    }
  }, 30_000);
  afterAll(async () => {
    for (const edge of edges) {
      await edge.gateway.close();
      await edge.host.stop();
    }
    await service?.stop();
    await nats?.stop();
  });

  it("drops the entry an event names on both gateways, so both show the change", async () => {
    const [one, two] = edges as [EdgeProcess, EdgeProcess];
    for (const edge of edges) {
      expect((await get(`${edge.url}/items/a`)).headers.get("x-cache")).toBe("MISS");
      expect((await get(`${edge.url}/items/a`)).json.price).toBe(10);
    }
    await get(`${one.url}/items/b`);
    expect(state.readsOf("item:a")).toBe(2);

    // The write goes through the first gateway, which drops its own entry before answering; the
    // event reaches the second, which has never seen the write.
    const patched = await fetch(`${one.url}/items/a`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ price: 11 }),
    });
    expect(patched.status).toBe(200);
    expect((await get(`${one.url}/items/a`)).json.price).toBe(11);
    await waitFor(() => two.counts.invalidations >= 1, { timeoutMs: 10_000, what: "the event at the second gateway" });
    const fromTwo = await get(`${two.url}/items/a`);
    expect(fromTwo.headers.get("x-cache")).toBe("MISS");
    expect(fromTwo.json.price).toBe(11);
    // Only what the event named went: another item's entry stays.
    expect((await get(`${one.url}/items/b`)).headers.get("x-cache")).toBe("HIT");
  }, 30_000);

  it("drops entries on every gateway when the change comes from elsewhere (no gateway saw the write)", async () => {
    for (const edge of edges) await get(`${edge.url}/list`);
    const before = edges.map((e) => e.counts.invalidations);
    await service.call(shelf.setPrice, { id: "b", price: 21 });
    await waitFor(() => edges.every((e, i) => e.counts.invalidations > before[i]!), {
      timeoutMs: 10_000,
      what: "the event at both gateways",
    });
    for (const edge of edges) {
      const list = await get(`${edge.url}/list`);
      expect(list.headers.get("x-cache")).toBe("MISS");
      expect((list.json.items as { id: string; price: number }[]).find((i) => i.id === "b")?.price).toBe(21);
    }
  }, 30_000);
});
