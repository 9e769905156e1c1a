/** @module Composite routes through real HTTP: parts in parallel, partial answers, required failures, public schemas, spans and metrics. */
import { SpanKinds, type SpanRecord } from "@flotilla/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { authenticated, composite, generateProto, route } from "../../src/index.js";
import { expectError } from "../support/harness.js";
import { until } from "../upstream/support/proxy-gateway.js";
import {
  type ComposeGateway,
  type ReviewsUpstream,
  startComposeGateway,
  startReviewsUpstream,
} from "./support/compose-gateway.js";
import { shelf } from "./support/shelf.js";

const Page = z.object({
  id: z.string(),
  name: z.string(),
  price: z.number(),
  stock: z.number().nullable(),
  rating: z.number().nullable(),
  suggested: z.array(z.object({ id: z.string(), name: z.string() })),
  partial: z.array(z.string()),
});

const page = composite({
  name: "web.productPage",
  description: "A product with its stock, rating and suggestions",
  method: "GET",
  path: "/products/:id/page",
  parts: (p) => {
    const suggestions = p.action(shelf.suggestions, (req) => ({ id: req.params.id }), { optional: true });
    return {
      product: p.action(shelf.product, (req) => ({ id: req.params.id })),
      stock: p.action(shelf.stock, (req) => ({ id: req.params.id, hang: req.query.hang === "stock" }), {
        optional: true,
        timeoutMs: 100,
      }),
      reviews: p.upstream(
        "reviews",
        (req) =>
          req.query.reviews === undefined ? `/reviews/${encodeURIComponent(req.params.id)}` : `/${req.query.reviews}`,
        { optional: true, timeoutMs: 300, output: z.object({ averageRating: z.number(), count: z.number() }) },
      ),
      suggestions,
      // Waits for the suggestions; nothing to name when there are none.
      suggested: p.after(
        suggestions,
        shelf.names,
        (s) => (s.ids.length === 0 ? undefined : { ids: s.ids.slice(0, 3) }),
        {
          optional: true,
        },
      ),
    };
  },
  // Spreads the whole product in: its internal fields must still never reach the client.
  shape: ({ product, stock, reviews, suggested }, { partial }) => ({
    ...product,
    stock: stock?.available ?? null,
    rating: reviews?.averageRating ?? null,
    suggested: suggested?.items ?? [],
    partial: [...partial],
  }),
  output: Page,
});

/** Two parts that each wait for the other to have started: only running at once do both answer. */
const meeting = composite({
  name: "web.meeting",
  method: "GET",
  path: "/meeting",
  parts: (p) => ({
    a: p.action(shelf.meet, () => ({ me: "a", other: "b" })),
    b: p.action(shelf.meet, () => ({ me: "b", other: "a" })),
  }),
  shape: ({ a, b }) => ({ a: a.met, b: b.met }),
  output: z.object({ a: z.string(), b: z.string() }),
});

/** Two parts reporting what their calls carried, behind a policy that names the caller. */
const seen = composite({
  name: "web.seen",
  method: "GET",
  path: "/seen",
  timeoutMs: 5_000,
  policies: [
    {
      name: "test-caller",
      onRequest: (ex) => {
        ex.caller = { subject: "user-7", roles: ["customer"] };
      },
    },
  ],
  parts: (p) => ({
    quick: p.action(shelf.seen, () => ({}), { timeoutMs: 400 }),
    patient: p.action(shelf.seen, () => ({})),
  }),
  shape: (values) => values,
  output: z.record(
    z.string(),
    z.object({
      subject: z.string().nullable(),
      correlationId: z.string(),
      traceId: z.string(),
      remainingMs: z.number(),
    }),
  ),
});

/** Signed-in callers only: the policy runs once, before any part. */
const mine = composite({
  name: "web.mine",
  method: "GET",
  path: "/mine/:id",
  policies: [authenticated()],
  parts: (p) => ({ product: p.action(shelf.product, (req) => ({ id: req.params.id })) }),
  shape: ({ product }) => ({ id: product.id }),
  output: z.object({ id: z.string() }),
});

const strictStock = composite({
  name: "web.strictStock",
  method: "GET",
  path: "/products/:id/stock",
  parts: (p) => ({ stock: p.action(shelf.stock, (req) => ({ id: req.params.id, hang: true }), { timeoutMs: 100 }) }),
  shape: ({ stock }) => ({ available: stock.available }),
  output: z.object({ available: z.number() }),
});

const misshapen = composite({
  name: "web.misshapen",
  method: "GET",
  path: "/products/:id/misshapen",
  parts: (p) => ({ product: p.action(shelf.product, (req) => ({ id: req.params.id })) }),
  // A shape that does not fit its schema: price as text.
  shape: ({ product }) => ({ id: product.id, price: String(product.price) }) as never,
  output: z.object({ id: z.string(), price: z.number() }),
});

interface Answer {
  description: string;
  headers: Record<string, unknown>;
  content: { "application/json": { schema: { properties: Record<string, unknown> } } };
}

interface PageJson extends z.infer<typeof Page> {
  [key: string]: unknown;
}

describe("composite routes", () => {
  let t: ComposeGateway;
  let reviews: ReviewsUpstream;
  beforeAll(async () => {
    reviews = await startReviewsUpstream();
    t = await startComposeGateway(
      [
        page,
        meeting,
        mine,
        seen,
        strictStock,
        misshapen,
        route({ method: "GET", path: "/products/:id", action: shelf.product }),
      ],
      {
        upstreams: { reviews: { targets: [reviews.url], circuitBreaker: false } },
        openapi: { title: "composite test", version: "1.0.0" },
      },
    );
  });
  afterAll(async () => {
    await t.stop();
    await reviews.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${t.url}${path}`, { headers });

  it("answers from every part, shaped and parsed through the public schema: internal fields never leak", async () => {
    const res = await get("/products/a/page");
    expect(res.status).toBe(200);
    expect(res.headers.get("flotilla-partial")).toBeNull();
    const body = (await res.json()) as PageJson;
    expect(body).toEqual({
      id: "a",
      name: "Product a",
      price: 1250,
      stock: 7,
      rating: 4.5,
      suggested: [
        { id: "b", name: "Product b" },
        { id: "c", name: "Product c" },
        { id: "d", name: "Product d" },
      ],
      partial: [],
    });
    const text = JSON.stringify(body);
    for (const internal of ["cost", "supplier", "Acme", "warehouse", "moderator"]) expect(text).not.toContain(internal);
    expect(reviews.asked).toContain("/reviews/a");
  });

  it("runs parts in parallel: two parts that each wait for the other to start both answer", async () => {
    const res = await get("/meeting");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ a: "b", b: "a" });
  });

  it("calls every part with the route's caller, correlation id and trace, within the part's own time", async () => {
    const res = await get("/seen", { "x-correlation-id": "page-load-1" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<
      string,
      { subject: string; correlationId: string; traceId: string; remainingMs: number }
    >;
    for (const part of ["quick", "patient"]) {
      expect(body[part]).toMatchObject({ subject: "user-7", correlationId: "page-load-1" });
      expect(body[part]?.traceId).toBe(res.headers.get("x-trace-id"));
    }
    // Each part's deadline is its own timeout, within what is left of the route's 5 s.
    expect(body.quick?.remainingMs).toBeLessThanOrEqual(400);
    expect(body.patient?.remainingMs).toBeGreaterThan(400);
    expect(body.patient?.remainingMs).toBeLessThanOrEqual(5_000);
  });

  it("gives a partial answer when an optional part times out: null value, listed in the body and the header", async () => {
    const res = await get("/products/a/page?hang=stock");
    expect(res.status).toBe(200);
    expect(res.headers.get("flotilla-partial")).toBe("stock");
    const body = (await res.json()) as PageJson;
    expect(body.stock).toBeNull();
    expect(body.partial).toEqual(["stock"]);
    expect(body.rating).toBe(4.5);
    expect(t.parts).toContain("/products/:id/page stock timeout");
    t.shelf.release();
  });

  it("gives a partial answer when an optional part fails, or its upstream answers badly", async () => {
    const broken = await get("/products/broken/page");
    expect(broken.status).toBe(200);
    expect(((await broken.json()) as PageJson).partial).toEqual(["stock"]);
    expect(t.parts).toContain("/products/:id/page stock error");

    for (const bad of ["status/500", "not-json", "status/404"]) {
      const res = await get(`/products/a/page?reviews=${encodeURIComponent(bad)}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("flotilla-partial")).toBe("reviews");
      const body = (await res.json()) as PageJson;
      expect(body.rating).toBeNull();
      expect(body.stock).toBe(7);
    }
    const hung = await get("/products/a/page?reviews=hang%2Fx");
    expect(hung.headers.get("flotilla-partial")).toBe("reviews");
    expect(t.parts).toContain("/products/:id/page reviews timeout");
    reviews.release();
  });

  it("fails the route with a required part's error, with its stable code and status", async () => {
    await expectError(await get("/products/missing/page"), 404, "PRODUCT_NOT_FOUND");
    await expectError(await get(`/products/${"x".repeat(40)}/page`), 400, "INVALID_ARGUMENT");
    await expectError(await get("/products/a/stock"), 504, "DEADLINE_EXCEEDED");
    t.shelf.release();
  });

  it("runs the route's policies once, before any part: a refused request calls no service", async () => {
    const before = t.shelf.calls.length;
    await expectError(await get("/mine/a"), 401, "UNAUTHENTICATED");
    expect(t.shelf.calls.slice(before)).toEqual([]);
  });

  it("skips a dependent part with nothing to fetch, and leaves it out of `partial`", async () => {
    const before = t.shelf.calls.length;
    const res = await get("/products/lonely/page");
    const body = (await res.json()) as PageJson;
    expect(body.suggested).toEqual([]);
    expect(body.partial).toEqual([]);
    expect(t.shelf.calls.slice(before).some((c) => c.startsWith("names"))).toBe(false);
    expect(t.parts).toContain("/products/:id/page suggested skipped");
  });

  it("answers 500 with a stable code, logged, when the shape does not fit its schema", async () => {
    const res = await get("/products/a/misshapen");
    const error = await expectError(res, 500, "INTERNAL");
    const logged = t.logs.find((l) => l.code === "FLOTILLA_COMPOSITE_SHAPE_INVALID");
    expect(logged).toMatchObject({ level: 50, trace_id: error.traceId });
  });

  it("traces one span per part under the route's SERVER span, each call's CLIENT span under its part", async () => {
    const res = await get("/products/a/page");
    const traceId = res.headers.get("x-trace-id");
    await res.arrayBuffer();
    const isServer = (s: SpanRecord) =>
      s.traceId === traceId && s.kind === SpanKinds.server && s.name.includes("/page");
    // The SERVER span ends once the answer is out, which the client may see first.
    await until(() => t.spans.some(isServer), "the route's SERVER span");
    const spans = t.spans.filter((s) => s.traceId === traceId);
    const server = spans.find(isServer);
    const partSpans = spans.filter((s) => s.name.startsWith("part "));
    expect(partSpans.map((s) => s.name).sort()).toEqual([
      "part product",
      "part reviews",
      "part stock",
      "part suggested",
      "part suggestions",
    ]);
    for (const span of partSpans) {
      expect(span.parentSpanId).toBe(server?.spanId);
      expect(span.attributes["flotilla.part.outcome"]).toBe("ok");
      const clients = spans.filter((s) => s.parentSpanId === span.spanId && s.kind === SpanKinds.client);
      expect(clients).toHaveLength(1);
    }
    const reviewsPart = partSpans.find((s) => s.name === "part reviews");
    const upstreamGet = spans.find((s) => s.parentSpanId === reviewsPart?.spanId);
    expect(upstreamGet?.attributes["url.full"]).toBe(`${reviews.url}/reviews/a`);
  });

  it("is in the OpenAPI document with its public schema and its required parts' errors, but not in the .proto", async () => {
    const doc = (await (await get("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, Answer> }>>;
    };
    const op = doc.paths["/products/{id}/page"]?.get;
    expect(op?.operationId).toBe("web.productPage");
    const schema = op?.responses["200"]?.content["application/json"].schema;
    expect(Object.keys(schema?.properties ?? {}).sort()).toEqual([
      "id",
      "name",
      "partial",
      "price",
      "rating",
      "stock",
      "suggested",
    ]);
    expect(op?.responses["404"]?.description).toContain("PRODUCT_NOT_FOUND");
    expect(op?.responses["200"]?.headers).toHaveProperty("flotilla-partial");
    const proto = generateProto({
      package: "flotilla.test.v1",
      routes: [page, route({ method: "GET", path: "/p/:id", action: shelf.product })],
    });
    expect(proto.text).toContain("rpc Product");
    expect(proto.text).not.toContain("ProductPage");
  });

  it("counts the required parts' services, not the route's group, for readiness", async () => {
    const res = await get("/readyz");
    expect(res.status).toBe(200);
  });
});

describe("composite route declarations", () => {
  it("refuses a bad name, a required part waiting for an optional one, and an unknown upstream", async () => {
    const one = (p: Parameters<Parameters<typeof composite>[0]["parts"]>[0]) => ({
      product: p.action(shelf.product, () => ({ id: "a" })),
    });
    const output = z.object({});
    expect(() =>
      composite({ name: "productPage", method: "GET", path: "/x", parts: one, shape: () => ({}), output }),
    ).toThrow(/must be <group>.<operation>/);
    expect(() =>
      composite({
        name: "web.x",
        method: "GET",
        path: "/x",
        parts: (p) => {
          const s = p.action(shelf.suggestions, () => ({ id: "a" }), { optional: true });
          return { s, n: p.after(s, shelf.names, (v) => ({ ids: v.ids })) };
        },
        shape: () => ({}),
        output,
      }),
    ).toThrow(/a required part cannot wait for an optional one/);
    expect(() =>
      composite({
        name: "web.twice",
        method: "GET",
        path: "/twice",
        parts: (p) => {
          const product = p.action(shelf.product, () => ({ id: "a" }));
          return { product, again: product };
        },
        shape: () => ({}),
        output,
      }),
    ).toThrow(/the same part is listed under two names/);
    const upstreamless = composite({
      name: "web.y",
      method: "GET",
      path: "/y",
      parts: (p) => ({ r: p.upstream("nowhere", () => "/r") }),
      shape: () => ({}),
      output,
    });
    await expect(startComposeGateway([upstreamless])).rejects.toMatchObject({ code: "FLOTILLA_CONFIG" });
  });
});
