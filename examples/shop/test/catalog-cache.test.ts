/**
 * The shop's catalog answers cached at its gateway: one catalog call serves repeats (signed in or not),
 * clients revalidate with a 304, and an admin's price change shows on the very next read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionCounter, type CountedShop, startCountedShop } from "./support/attack.js";
import { type Headers, type Json, ShopClient } from "./support/shop-client.js";

const PRODUCT = "/api/v1/products/prod-french-press";

describe("catalog caching at the shop's gateway", () => {
  const counter = actionCounter();
  let shop: CountedShop;
  let client: ShopClient;
  let admin: Headers;
  let demo: Headers;
  beforeAll(async () => {
    shop = await startCountedShop(counter, { env: { FLOTILLA_RATE_LIMIT: "1000000/1" } });
    client = new ShopClient(shop.url);
    admin = await client.signIn("admin@flotilla.dev", "admin-password");
    demo = await client.signIn("demo@flotilla.dev", "demo-password");
  }, 60_000);
  afterAll(() => shop?.stop());

  const getProduct = (headers: Record<string, string> = {}) => fetch(`${shop.url}${PRODUCT}`, { headers });
  const calls = (fqn: string) => counter.calls.filter((c) => c === fqn).length;

  it("serves a product once fetched to everyone from the cache, and 304 to a client that has it", async () => {
    counter.reset();
    const first = await getProduct();
    expect(first.status).toBe(200);
    const product = await first.json();
    expect(product).toMatchObject({ id: "prod-french-press", currency: expect.any(String) });
    expect(first.headers.get("cache-control")).toBe("public, max-age=0");
    const signedIn = await getProduct(demo);
    expect(signedIn.headers.get("x-cache")).toBe("HIT");
    expect(await signedIn.json()).toEqual(product);
    const unchanged = await getProduct({ "if-none-match": first.headers.get("etag")! });
    // fetch() sends `Cache-Control: no-cache` with an If-None-Match of its caller's: still answered from the cache.
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get("x-cache")).toBe("HIT");
    expect(calls("catalog.getProduct")).toBe(1);
  });

  it("shows an admin's new price on the next read of the product and of the list", async () => {
    const before = (await (await getProduct()).json()) as Json;
    await (await fetch(`${shop.url}/api/v1/products?q=press`)).text();
    const price = before.price + 100;
    const changed = await client.send("PATCH", `/api/v1/admin/products/prod-french-press`, admin, { price });
    expect(changed.status).toBe(200);
    const after = await getProduct();
    expect(after.headers.get("x-cache")).toBe("MISS");
    expect(((await after.json()) as Json).price).toBe(price);
    const list = await fetch(`${shop.url}/api/v1/products?q=press`);
    const found = (((await list.json()) as Json).items as { id: string; price: number }[]).find(
      (p) => p.id === "prod-french-press",
    );
    expect(found?.price).toBe(price);
  });

  it("reports hits and misses on /metrics", async () => {
    await getProduct();
    await getProduct();
    const text = await (await fetch(`${shop.url}/metrics`, { headers: admin })).text();
    expect(text).toMatch(/flotilla_gateway_cache_hits_total\{route="\/api\/v1\/products\/:id"\} [1-9]/);
    expect(text).toMatch(/flotilla_gateway_cache_misses_total\{route="\/api\/v1\/products\/:id"\} [1-9]/);
    expect(text).toMatch(/flotilla_gateway_cache_bytes [1-9]/);
    expect(text).toMatch(/flotilla_gateway_cache_invalidations_total [1-9]/);
  });
});
