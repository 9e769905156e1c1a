/** The cache's bounds through real HTTP (bytes, least recently used first, the largest entry), and the declarations it refuses. */
import { createHost, FlotillaError } from "@flotilla/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, onEvent, route } from "../../src/index.js";
import { ShelfState, shelf, shelfService } from "./shelf.js";
import { type CacheWorld, cachedRoutes, get, startCacheWorld } from "./support.js";

const MAX_BYTES = 200_000;
const MAX_ENTRY_BYTES = 50_000;

describe("the cache's bounds", () => {
  let w: CacheWorld;
  beforeAll(async () => {
    w = await startCacheWorld({ maxBytes: MAX_BYTES, maxEntryBytes: MAX_ENTRY_BYTES });
  });
  afterAll(() => w?.stop());

  it("stays within its bytes when filled far past them, evicting the least recently used and counting them", async () => {
    // About 8 KB of text each, some 32 KB as counted: 100 of them are sixteen times the bound.
    for (let i = 0; i < 100; i++) {
      const answer = await get(`${w.url}/blobs/b${i}?size=8000`);
      expect(answer.status).toBe(200);
      expect(w.counts.bytes()).toBeLessThanOrEqual(MAX_BYTES);
      // The oldest entry stays used, so it is never the least recent one.
      expect((await get(`${w.url}/blobs/b0?size=8000`)).headers.get("x-cache")).toBe("HIT");
    }
    expect(w.counts.bytes()).toBeGreaterThan(MAX_BYTES / 2);
    expect(w.counts.evictions).toBeGreaterThanOrEqual(90);
    expect((await get(`${w.url}/blobs/b1?size=8000`)).headers.get("x-cache")).toBe("MISS");
    expect((await get(`${w.url}/blobs/b99?size=8000`)).headers.get("x-cache")).toBe("HIT");
    expect(w.state.readsOf("blob:b0")).toBe(1);
  });

  it("serves an answer larger than the largest entry without storing it", async () => {
    const big = await get(`${w.url}/blobs/big?size=40000`);
    expect(big.status).toBe(200);
    expect((big.json.data as string).length).toBe(40_000);
    expect(big.headers.get("x-cache")).toBe("MISS");
    expect((await get(`${w.url}/blobs/big?size=40000`)).headers.get("x-cache")).toBe("MISS");
    expect(w.state.readsOf("blob:big")).toBe(2);
  });
});

describe("a gateway with its cache turned off", () => {
  it("serves cached routes from the action each time, without caching headers", async () => {
    const state = new ShelfState();
    const host = createHost({ services: [shelfService(state)] });
    await host.start();
    const gateway = createGateway({ host, routes: cachedRoutes, accessLog: false, cache: false });
    try {
      const url = await gateway.listen();
      const answers = [await get(`${url}/items/a`), await get(`${url}/items/a`)];
      expect(answers.map((a) => [a.status, a.headers.get("x-cache"), a.headers.get("etag")])).toEqual([
        [200, null, null],
        [200, null, null],
      ]);
      expect(state.readsOf("item:a")).toBe(2);
    } finally {
      await gateway.close();
      await host.stop();
    }
  });
});

describe("cache declarations the gateway refuses", () => {
  const configError = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(FlotillaError);
      expect((err as FlotillaError).code).toBe("FLOTILLA_CONFIG");
      return (err as FlotillaError).message;
    }
    throw new Error("expected a FLOTILLA_CONFIG error");
  };
  const item = { path: "/items/:id", action: shelf.item, input: () => ({ id: "a" }) };

  it("refuses caching on anything but a GET route answering 200", () => {
    expect(
      configError(() => route({ method: "PATCH", path: "/items/:id", action: shelf.setPrice, cache: { ttlSec: 5 } })),
    ).toMatch(/only GET routes answering 200/);
    expect(configError(() => route({ method: "GET", ...item, status: 201, cache: { ttlSec: 5 } }))).toMatch(/GET/);
    expect(
      configError(() => route({ method: "GET", ...item, accepted: { location: () => "/x" }, cache: { ttlSec: 5 } })),
    ).toMatch(/GET/);
  });

  it.each([
    ["a TTL of zero", { ttlSec: 0 }, /ttlSec/],
    ["a negative TTL", { ttlSec: -1 }, /ttlSec/],
    ["a TTL that is not a number", { ttlSec: Number.NaN }, /ttlSec/],
    ["a fractional client max-age", { ttlSec: 5, clientMaxAgeSec: 1.5 }, /clientMaxAgeSec/],
    ["an unknown vary dimension", { ttlSec: 5, varyBy: ["mood"] }, /vary by "mood"/],
    ["an invalidation without an event", { ttlSec: 5, invalidateOn: [{ event: shelf.item }] }, /invalidateOn/],
  ])("refuses %s", (_, cache, message) => {
    expect(configError(() => route({ method: "GET", ...item, cache: cache as never }))).toMatch(message);
  });

  it("refuses gateway limits that are not positive, or an entry bound past the whole", () => {
    const host = createHost({ services: [] });
    const routes = [
      route({ method: "GET", ...item, cache: { ttlSec: 5, invalidateOn: [onEvent(shelf.PriceChanged)] } }),
    ];
    expect(configError(() => createGateway({ host, routes, cache: { maxBytes: 0 } }))).toMatch(/maxBytes/);
    expect(configError(() => createGateway({ host, routes, cache: { maxBytes: 1.5 } }))).toMatch(/maxBytes/);
    expect(configError(() => createGateway({ host, routes, cache: { maxBytes: 10, maxEntryBytes: 11 } }))).toMatch(
      /maxEntryBytes/,
    );
  });
});
