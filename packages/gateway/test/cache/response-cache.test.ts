/**
 * Response caching through real HTTP: hits and misses, TTL, keys (validated input, tier, the caller for
 * private answers), ETag and 304, HEAD, no-cache and no-store, errors never stored, one call per key under
 * a stampede, and invalidation by a write route, by an event, and of calls in flight.
 */
import { sleep, waitFor } from "@flotilla/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { shelf } from "./shelf.js";
import { type CacheWorld, get, startCacheWorld } from "./support.js";

describe("response caching", () => {
  let w: CacheWorld;
  beforeAll(async () => {
    w = await startCacheWorld();
  });
  afterAll(() => w?.stop());
  // A test that fails while holding the service's reads must not hang the next ones.
  afterEach(() => w.state.open());

  it("answers a repeat from the cache, with its validator, freshness and age, and counts hits and misses", async () => {
    const before = { ...w.counts };
    const first = await get(`${w.url}/items/a`);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("MISS");
    expect(first.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    // Anonymous, but the route does not say its answers are the same for everyone: not for shared caches.
    expect(first.headers.get("cache-control")).toBe("private, max-age=30");
    const second = await get(`${w.url}/items/a`);
    expect(second.headers.get("x-cache")).toBe("HIT");
    expect(second.headers.get("age")).toMatch(/^\d+$/);
    expect(second.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(second.text).toBe(first.text);
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
    expect(w.state.readsOf("item:a")).toBe(1);
    expect(w.counts.hits - before.hits).toBe(1);
    expect(w.counts.misses - before.misses).toBe(1);
    expect(w.counts.bytes()).toBeGreaterThan(0);
  });

  it("leaves routes without a cache declaration alone", async () => {
    await get(`${w.url}/plain/items/b`);
    const again = await get(`${w.url}/plain/items/b`);
    expect(again.headers.get("x-cache")).toBeNull();
    expect(again.headers.get("etag")).toBeNull();
    expect(w.state.readsOf("item:b")).toBe(2);
  });

  it("answers 304 without a body when If-None-Match names the answer, weak or strong, and 200 otherwise", async () => {
    const first = await get(`${w.url}/items/b`);
    const etag = first.headers.get("etag")!;
    const same = await get(`${w.url}/items/b`, { "if-none-match": etag });
    expect(same.status).toBe(304);
    expect(same.text).toBe("");
    expect(same.headers.get("etag")).toBe(etag);
    expect(same.headers.get("cache-control")).toBe("private, max-age=30");
    expect((await get(`${w.url}/items/b`, { "if-none-match": `"other", W/${etag}` })).status).toBe(304);
    expect((await get(`${w.url}/items/b`, { "if-none-match": "*" })).status).toBe(304);
    const changed = await get(`${w.url}/items/b`, { "if-none-match": '"not-it"' });
    expect(changed.status).toBe(200);
    expect(changed.json.price).toBe(20);
  });

  it("serves HEAD from the GET's entry, with its headers and no body", async () => {
    const got = await get(`${w.url}/items/a`);
    const head = await get(`${w.url}/items/a`, {}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    expect(head.headers.get("x-cache")).toBe("HIT");
    expect(head.headers.get("etag")).toBe(got.headers.get("etag"));
  });

  it("keys by what the action receives: unknown parameters and spelled-out defaults share one entry", async () => {
    await get(`${w.url}/list`);
    const spelled = await get(`${w.url}/list?limit=10`);
    const junk = await get(`${w.url}/list?utm_source=x&limit=10`);
    expect([spelled.headers.get("x-cache"), junk.headers.get("x-cache")]).toEqual(["HIT", "HIT"]);
    expect(spelled.headers.get("cache-control")).toBe("private, max-age=0");
    expect((await get(`${w.url}/list?limit=1`)).headers.get("x-cache")).toBe("MISS");
    expect(w.state.readsOf("list")).toBe(2);
  });

  it("keeps a signed-in caller's answers to that caller alone", async () => {
    w.state.prices.set("p", 1);
    const ann = await get(`${w.url}/items/p`, { "x-user": "ann" });
    const bob = await get(`${w.url}/items/p`, { "x-user": "bob" });
    const anonymous = await get(`${w.url}/items/p`);
    expect([ann.json.for, bob.json.for, anonymous.json.for]).toEqual(["ann", "bob", null]);
    expect(bob.headers.get("x-cache")).toBe("MISS");
    const annAgain = await get(`${w.url}/items/p`, { "x-user": "ann" });
    expect(annAgain.headers.get("x-cache")).toBe("HIT");
    expect(annAgain.json.for).toBe("ann");
    expect(annAgain.headers.get("cache-control")).toBe("private, max-age=30");
    expect(w.state.readsOf("item:p")).toBe(3);
  });

  it("shares the answers of a route that says they are the same for everyone, as public", async () => {
    w.state.prices.set("s", 1);
    const ann = await get(`${w.url}/shared/items/s`, { "x-user": "ann" });
    const bob = await get(`${w.url}/shared/items/s`, { "x-user": "bob" });
    const anonymous = await get(`${w.url}/shared/items/s`);
    expect([ann.headers.get("x-cache"), bob.headers.get("x-cache"), anonymous.headers.get("x-cache")]).toEqual([
      "MISS",
      "HIT",
      "HIT",
    ]);
    expect(bob.headers.get("cache-control")).toBe("public, max-age=30");
    expect(w.state.readsOf("item:s")).toBe(1);
  });

  it("varies by the caller's tier when the route says so, anonymous callers apart", async () => {
    w.state.prices.set("t", 1);
    const gold1 = await get(`${w.url}/tiered/items/t`, { "x-user": "ann", "x-tier": "gold" });
    const gold2 = await get(`${w.url}/tiered/items/t`, { "x-user": "bob", "x-tier": "gold" });
    const silver = await get(`${w.url}/tiered/items/t`, { "x-user": "cat", "x-tier": "silver" });
    const untiered = await get(`${w.url}/tiered/items/t`, { "x-user": "dan" });
    const anonymous = await get(`${w.url}/tiered/items/t`);
    expect(gold2.headers.get("x-cache")).toBe("HIT");
    expect(gold2.json.tier).toBe("gold");
    expect([silver.json.tier, untiered.json.tier, anonymous.json.for]).toEqual(["silver", null, null]);
    expect([silver, untiered, anonymous].map((a) => a.headers.get("x-cache"))).toEqual(["MISS", "MISS", "MISS"]);
    // Shared within a tier, but a cache downstream cannot tell tiers apart.
    expect(gold1.headers.get("cache-control")).toBe("private, max-age=30");
    expect(w.state.readsOf("item:t")).toBe(4);
  });

  it("forgets an answer once its TTL has passed", async () => {
    w.state.prices.set("e", 1);
    await get(`${w.url}/short/items/e`);
    expect((await get(`${w.url}/short/items/e`)).headers.get("x-cache")).toBe("HIT");
    await sleep(300); // past the route's 0.2 s: whatever the machine's speed, the entry has expired
    expect((await get(`${w.url}/short/items/e`)).headers.get("x-cache")).toBe("MISS");
    expect(w.state.readsOf("item:e")).toBe(2);
  });

  it("answers no-cache requests from the cache, and stores nothing a no-store request fetched", async () => {
    w.state.prices.set("n", 1);
    await get(`${w.url}/items/n`);
    // What fetch() and a browser's reload send: the cache is kept current by events, not by its clients.
    const asks: Record<string, string>[] = [
      { "cache-control": "no-cache" },
      { "cache-control": "max-age=0" },
      { pragma: "no-cache" },
    ];
    for (const headers of asks) {
      expect((await get(`${w.url}/items/n`, headers)).headers.get("x-cache")).toBe("HIT");
    }
    expect((await get(`${w.url}/items/n`, { "cache-control": "no-store" })).headers.get("x-cache")).toBe("HIT");
    w.state.prices.set("m", 1);
    const bypass = await get(`${w.url}/items/m`, { "cache-control": "no-store" });
    expect(bypass.headers.get("x-cache")).toBe("BYPASS");
    expect(bypass.json.price).toBe(1);
    expect((await get(`${w.url}/items/m`)).headers.get("x-cache")).toBe("MISS");
    expect(w.state.readsOf("item:n")).toBe(1);
    expect(w.state.readsOf("item:m")).toBe(2);
  });

  it("never stores an error or an empty answer", async () => {
    const missing = await get(`${w.url}/items/zz`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("cache-control")).toBeNull();
    expect(missing.headers.get("x-cache")).toBeNull();
    expect((await get(`${w.url}/items/zz`)).status).toBe(404);
    expect(w.state.readsOf("item:zz")).toBe(2);
    expect((await get(`${w.url}/nothing`)).status).toBe(204);
    expect((await get(`${w.url}/nothing`)).status).toBe(204);
    expect(w.state.readsOf("nothing")).toBe(2);
  });

  it("makes one call for a hundred concurrent misses of one key, all answered by it", async () => {
    w.state.prices.set("hot", 7);
    w.state.hold();
    const answers = Array.from({ length: 100 }, () => get(`${w.url}/items/hot`));
    // Every request past the policies while the one call is held: each has joined it.
    await waitFor(() => w.arrivals.get("hot") === 100, { timeoutMs: 20_000, what: "all requests to arrive" });
    await sleep(10);
    expect(w.state.readsOf("item:hot")).toBe(1);
    w.state.open();
    const all = await Promise.all(answers);
    expect(w.state.readsOf("item:hot")).toBe(1);
    expect(new Set(all.map((a) => `${a.status} ${a.text}`))).toEqual(new Set([all[0]!.status + " " + all[0]!.text]));
    expect(all[0]!.json.price).toBe(7);
    expect(all.filter((a) => a.headers.get("x-cache") === "MISS").length).toBe(100);
  });

  it("passes a failed call to every request that joined it, and stores nothing", async () => {
    w.state.hold();
    const answers = Array.from({ length: 20 }, () => get(`${w.url}/items/gone`));
    await waitFor(() => w.arrivals.get("gone") === 20, { timeoutMs: 20_000, what: "all requests to arrive" });
    await sleep(10);
    w.state.open();
    const all = await Promise.all(answers);
    expect(all.every((a) => a.status === 404 && (a.json.error as { code: string }).code === "ITEM_NOT_FOUND")).toBe(
      true,
    );
    expect(w.state.readsOf("item:gone")).toBe(1);
    expect((await get(`${w.url}/items/gone`)).status).toBe(404);
    expect(w.state.readsOf("item:gone")).toBe(2);
  });

  it("drops what a write route names before it answers: the next read shows the change", async () => {
    w.state.prices.set("w", 1);
    await get(`${w.url}/items/w`);
    const patched = await fetch(`${w.url}/items/w`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ price: 99 }),
    });
    expect(patched.status).toBe(200);
    const after = await get(`${w.url}/items/w`);
    expect(after.headers.get("x-cache")).toBe("MISS");
    expect(after.json.price).toBe(99);
  });

  it("drops what an event names, and a route's every entry for a rule without tags", async () => {
    w.state.prices.set("v", 1);
    await get(`${w.url}/items/v`);
    await get(`${w.url}/items/a`);
    await get(`${w.url}/list`);
    const invalidations = w.counts.invalidations;
    await w.host.call(shelf.setPrice, { id: "v", price: 5 });
    await waitFor(() => w.counts.invalidations >= invalidations + 2, { what: "the event's invalidation" });
    const item = await get(`${w.url}/items/v`);
    expect(item.headers.get("x-cache")).toBe("MISS");
    expect(item.json.price).toBe(5);
    expect((await get(`${w.url}/list`)).headers.get("x-cache")).toBe("MISS");
    expect((await get(`${w.url}/items/a`)).headers.get("x-cache")).toBe("HIT");
  });

  it("does not store an answer fetched while an invalidation arrived: it may predate the change", async () => {
    w.state.prices.set("f", 1);
    w.state.hold();
    const inFlight = get(`${w.url}/items/f`);
    await waitFor(() => w.state.readsOf("item:f") === 1, { what: "the call to arrive" });
    await w.host.call(shelf.setPrice, { id: "f", price: 2 });
    const invalidations = w.counts.invalidations;
    await fetch(`${w.url}/items/f`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ price: 2 }),
    });
    w.state.open();
    expect((await inFlight).status).toBe(200);
    const next = await get(`${w.url}/items/f`);
    expect(next.headers.get("x-cache")).toBe("MISS");
    expect(next.json.price).toBe(2);
    expect(w.counts.invalidations).toBe(invalidations); // nothing was stored to drop
  });

  it("says on the request's span how the cache served it", async () => {
    w.state.prices.set("span", 1);
    const miss = await get(`${w.url}/items/span`);
    const hit = await get(`${w.url}/items/span`);
    const cacheAttribute = async (answer: { headers: Headers }) => {
      const traceId = answer.headers.get("x-trace-id")!;
      let value: unknown;
      await waitFor(
        async () => {
          const server = (await w.traces.trace(traceId)).find((s) => s.name === "GET /items/:id");
          value = server?.attributes["flotilla.cache"];
          return value !== undefined;
        },
        { what: "the gateway's span" },
      );
      return value;
    };
    const revalidated = await get(`${w.url}/items/span`, { "if-none-match": miss.headers.get("etag")! });
    expect(revalidated.status).toBe(304);
    expect(await cacheAttribute(miss)).toBe("miss");
    expect(await cacheAttribute(hit)).toBe("hit");
    expect(await cacheAttribute(revalidated)).toBe("revalidated");
  });
});
