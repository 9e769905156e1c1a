/** @module The shop's web and mobile product answers, composed at the gateway from the same services and the legacy monolith, over real HTTP. */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningApp } from "@flotilla/app";
import { SpanKinds, type SpanRecord, type TraceStore } from "@flotilla/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startShop } from "../src/app.js";
import { MobileProduct, WebProductPage } from "../src/bff.js";
import { ADDRESS, CARDS, type Json, ShopClient } from "./support/shop-client.js";
import { waitForTrace } from "./support/traces.js";

async function startTestShop(prefix: string): Promise<{ shop: RunningApp; url: string; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const shop = await startShop({ port: 0, listenHost: "127.0.0.1", dataDir });
  return {
    shop,
    url: shop.url as string,
    stop: async () => {
      await shop.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const getJson = async (url: string) => {
  const res = await fetch(url);
  return { res, body: (await res.json()) as Json };
};

describe("the shop's web and mobile product answers", () => {
  let t: Awaited<ReturnType<typeof startTestShop>>;
  beforeAll(async () => {
    t = await startTestShop("flotilla-bff-");
    // A buyer of the French press also buys a grinder: the press's suggestions then name the grinder.
    const client = new ShopClient(t.url);
    const auth = await client.signIn("demo@flotilla.dev", "demo-password");
    const placed = await client.placeOrder(auth, {
      items: [
        { productId: "prod-french-press", quantity: 1 },
        { productId: "prod-burr-grinder", quantity: 1 },
      ],
      payment: { card: CARDS.ok },
      shipping: ADDRESS,
    });
    expect(placed.status).toBe(202);
    await client.settled(auth, placed.body.orderId, new Set(["confirmed", "shipped"]));
  });
  afterAll(() => t.stop());

  it("answers the web page and the mobile product from the same data, each in its own public shape", async () => {
    const product = (await getJson(`${t.url}/api/v1/products/prod-french-press`)).body;
    const grinder = (await getJson(`${t.url}/api/v1/products/prod-burr-grinder`)).body;
    // The recommendations read model follows the confirmed order by an event: poll until it has.
    await expect
      .poll(async () => (await getJson(`${t.url}/api/v1/products/prod-french-press/page`)).body.recommendations)
      .toEqual([{ id: grinder.id, name: grinder.name, price: grinder.price, currency: grinder.currency }]);
    const { res, body: web } = await getJson(`${t.url}/api/v1/products/prod-french-press/page`);
    expect(res.status).toBe(200);
    expect(res.headers.get("flotilla-partial")).toBeNull();
    expect(WebProductPage.strict().safeParse(web).success).toBe(true);
    expect(web.product).toEqual(product);
    expect(web.stock.inStock).toBe(web.stock.available > 0);
    expect(web.reviews).toMatchObject({ count: 2, averageRating: 3.5 });
    expect(web.reviews.latest.map((r: Json) => r.author)).toEqual(["Alan", "Margaret"]);
    expect(web.partial).toEqual([]);

    const { res: mobileRes, body: mobile } = await getJson(`${t.url}/mobile/v1/products/prod-french-press`);
    expect(mobileRes.status).toBe(200);
    expect(mobile).toEqual({
      id: product.id,
      name: product.name,
      price: product.price,
      currency: product.currency,
      inStock: web.stock.inStock,
      rating: { average: 3.5, count: 2 },
      recommended: ["prod-burr-grinder"],
      partial: [],
    });
  });

  it("traces the page as one span per part under the gateway's, each with the call it made", async () => {
    const res = await fetch(`${t.url}/api/v1/products/prod-french-press/page`);
    expect(res.status).toBe(200);
    const traceId = res.headers.get("x-trace-id") as string;
    const spans = await waitForTrace(t.shop.traces?.store as TraceStore, traceId, (s) =>
      s.some((x) => x.name === "GET /api/v1/products/:id/page"),
    );
    const server = spans.find((s) => s.name === "GET /api/v1/products/:id/page") as SpanRecord;
    const parts = spans.filter((s) => s.name.startsWith("part "));
    expect(parts.map((s) => s.name).sort()).toEqual([
      "part product",
      "part recommendations",
      "part recommended",
      "part reviews",
      "part stock",
    ]);
    const childOf = (parent: SpanRecord) => spans.filter((s) => s.parentSpanId === parent.spanId);
    for (const part of parts) {
      expect(part.parentSpanId).toBe(server.spanId);
      expect(part.attributes["flotilla.part.outcome"]).toBe("ok");
      expect(childOf(part).filter((s) => s.kind === SpanKinds.client)).toHaveLength(1);
    }
    const product = parts.find((s) => s.name === "part product") as SpanRecord;
    const call = childOf(product)[0] as SpanRecord;
    expect(call.name).toBe("catalog.getProduct");
    // The catalog's own SERVER span, under the gateway's call.
    expect(childOf(call).some((s) => s.service === "catalog" && s.kind === SpanKinds.server)).toBe(true);
    const reviews = parts.find((s) => s.name === "part reviews") as SpanRecord;
    expect(childOf(reviews)[0]?.attributes["url.full"]).toMatch(/\/products\/prod-french-press\/reviews$/);
  });

  it("never lets services' or the monolith's internal fields through", async () => {
    for (const path of ["/api/v1/products/prod-french-press/page", "/mobile/v1/products/prod-french-press"]) {
      const text = await (await fetch(`${t.url}${path}`)).text();
      // inventory's `reserved`, the monolith's review ids and `productId`, the suggestions' `score`.
      for (const internal of ['"reserved"', '"productId"', '"score"', '"rev-']) expect(text).not.toContain(internal);
    }
    const mobile = (await getJson(`${t.url}/mobile/v1/products/prod-french-press`)).body;
    expect(MobileProduct.strict().safeParse(mobile).success).toBe(true);
    expect(mobile.description).toBeUndefined();
  });

  it("answers an unknown product with the catalog's 404 on both", async () => {
    for (const path of ["/api/v1/products/prod-nope/page", "/mobile/v1/products/prod-nope"]) {
      const { res, body } = await getJson(`${t.url}${path}`);
      expect(res.status).toBe(404);
      expect(body.error.code).toBe("PRODUCT_NOT_FOUND");
    }
  });

  it("documents both in /openapi.json with their public schemas", async () => {
    const doc = (await getJson(`${t.url}/openapi.json`)).body;
    expect(doc.paths["/api/v1/products/{id}/page"].get.operationId).toBe("web.productPage");
    const mobile = doc.paths["/mobile/v1/products/{id}"].get;
    expect(mobile.operationId).toBe("mobile.product");
    expect(Object.keys(mobile.responses["200"].content["application/json"].schema.properties)).not.toContain(
      "description",
    );
  });
});

describe("the shop's product answers while the legacy monolith is down", () => {
  let t: Awaited<ReturnType<typeof startTestShop>>;
  beforeAll(async () => {
    // A port nothing listens on: bound, then released.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    process.env.FLOTILLA_UPSTREAM_LEGACY = `http://127.0.0.1:${port}`;
    t = await startTestShop("flotilla-bff-down-");
  });
  afterAll(async () => {
    delete process.env.FLOTILLA_UPSTREAM_LEGACY;
    await t.stop();
  });

  it("still answers, without reviews, and says so", async () => {
    const { res, body } = await getJson(`${t.url}/api/v1/products/prod-french-press/page`);
    expect(res.status).toBe(200);
    expect(res.headers.get("flotilla-partial")).toBe("reviews");
    expect(body.reviews).toBeNull();
    expect(body.partial).toEqual(["reviews"]);
    expect(body.product.id).toBe("prod-french-press");
    const mobile = await getJson(`${t.url}/mobile/v1/products/prod-french-press`);
    expect(mobile.res.headers.get("flotilla-partial")).toBe("reviews");
    expect(mobile.body).toMatchObject({ rating: null, partial: ["reviews"], id: "prod-french-press" });

    // Each part's outcome is counted, by route and part.
    const admin = await new ShopClient(t.url).signIn("admin@flotilla.dev", "admin-password");
    const metrics = await (await fetch(`${t.url}/metrics`, { headers: admin })).text();
    expect(metrics).toMatch(
      /flotilla_composite_parts_total\{route="\/api\/v1\/products\/:id\/page",part="reviews",outcome="error"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /flotilla_composite_parts_total\{route="\/mobile\/v1\/products\/:id",part="product",outcome="ok"\} [1-9]/,
    );
  });
});
