/** @module The legacy monolith on its own, over real HTTP: its routes, its answers to bad input, its data kept across restarts. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LegacyMonolith, startLegacyMonolith, USER_HEADER } from "../src/index.js";

// biome-ignore lint/suspicious/noExplicitAny: test code reading JSON whose shape the assertions check
type Json = any;

describe("legacy monolith", () => {
  let dir: string;
  let legacy: LegacyMonolith;
  const post = (path: string, body: unknown, headers: Record<string, string> = { [USER_HEADER]: "user-1" }) =>
    fetch(`${legacy.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-legacy-"));
    legacy = await startLegacyMonolith({ dbFile: join(dir, "reviews.db") });
  });
  afterAll(async () => {
    await legacy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers its health check and store info", async () => {
    expect((await fetch(`${legacy.url}/health`)).status).toBe(200);
    const info = (await (await fetch(`${legacy.url}/store-info`)).json()) as Json;
    expect(info).toMatchObject({ name: expect.any(String), hours: { sunday: "closed" } });
  });

  it("lists a product's seeded reviews, oldest first, with their average", async () => {
    const body = (await (await fetch(`${legacy.url}/products/prod-espresso-machine/reviews`)).json()) as Json;
    expect(body).toMatchObject({ productId: "prod-espresso-machine", count: 2, averageRating: 4.5 });
    expect(body.items.map((r: Json) => r.author)).toEqual(["Ada", "Grace"]);
  });

  it("adds a review by the user the proxy names, served again by its id, and kept across a restart", async () => {
    const res = await post("/products/prod-matcha-set/reviews", { rating: 4, body: "  Smooth and grassy. " });
    expect(res.status).toBe(201);
    const review = (await res.json()) as Json;
    expect(review).toMatchObject({
      productId: "prod-matcha-set",
      author: "user-1",
      rating: 4,
      body: "Smooth and grassy.",
    });
    expect(res.headers.get("location")).toBe(`/reviews/${review.id}`);
    await legacy.close();
    legacy = await startLegacyMonolith({ dbFile: join(dir, "reviews.db") });
    expect((await (await fetch(`${legacy.url}/reviews/${review.id}`)).json()) as Json).toEqual(review);
  });

  it("exports every review in id order, a page at a time, for a service taking them over", async () => {
    const seen: Json[] = [];
    let after = 0;
    let lastId = -1;
    for (;;) {
      const page = (await (await fetch(`${legacy.url}/reviews?after=${after}&limit=4`)).json()) as Json;
      lastId = page.lastId;
      if (page.items.length === 0) break;
      seen.push(...page.items);
      after = Number(page.items.at(-1).id.slice("rev-".length));
    }
    const ids = seen.map((r) => Number(r.id.slice(4)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.at(-1)).toBe(lastId);
    expect(seen.length).toBeGreaterThanOrEqual(10);
    expect(seen[0]).toEqual((await (await fetch(`${legacy.url}/reviews/${seen[0].id}`)).json()) as Json);
  });

  it("refuses bad input with its own error codes", async () => {
    const cases: Array<[Response, number, string]> = [
      [await post("/products/p/reviews", { rating: 4, body: "x" }, {}), 401, "UNAUTHENTICATED"],
      [await post("/products/p/reviews", { rating: 0, body: "x" }), 400, "INVALID_REVIEW"],
      [await post("/products/p/reviews", { rating: 3, body: " " }), 400, "INVALID_REVIEW"],
      [await post("/products/p/reviews", "{not json"), 400, "MALFORMED_JSON"],
      [await post("/products/p/reviews", { rating: 3, body: "x".repeat(70_000) }), 413, "BODY_TOO_LARGE"],
      [await fetch(`${legacy.url}/reviews/rev-999999`), 404, "REVIEW_NOT_FOUND"],
      [await fetch(`${legacy.url}/reviews/nonsense`), 404, "REVIEW_NOT_FOUND"],
      [await fetch(`${legacy.url}/store-info`, { method: "DELETE" }), 405, "METHOD_NOT_ALLOWED"],
      [await fetch(`${legacy.url}/nowhere`), 404, "NOT_FOUND"],
      [await fetch(`${legacy.url}/reviews?after=-1`), 400, "INVALID_QUERY"],
      [await fetch(`${legacy.url}/reviews?limit=0`), 400, "INVALID_QUERY"],
      [await fetch(`${legacy.url}/reviews?limit=5000`), 400, "INVALID_QUERY"],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status, code).toBe(status);
      expect(((await res.json()) as Json).error.code).toBe(code);
    }
    const text = await fetch(`${legacy.url}/products/p/reviews`, {
      method: "POST",
      headers: { [USER_HEADER]: "u", "content-type": "text/plain" },
      body: "hi",
    });
    expect(text.status).toBe(415);
  });
});
