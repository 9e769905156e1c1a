/**
 * @module The reviews contract, as the legacy monolith answers it: one scenario, run against the monolith
 * over HTTP and against the reviews service through the shop's gateway, must get the same answers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningApp } from "@flotilla/app";
import { type LegacyMonolith, startLegacyMonolith, USER_HEADER } from "@flotilla/example-legacy-monolith";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startShop } from "../src/app.js";
import { type Json, ShopClient } from "./support/shop-client.js";

/** One answer as the contract sees it: the gateway's trace id and a new review's time are not part of it. */
interface Answer {
  status: number;
  body: Json;
  location?: string | null;
}

/** Where the scenario's requests go, and how a signed-in user is said to each. */
interface Target {
  url: string;
  /** The path of a product's reviews. */
  reviewsPath(productId: string): string;
  /** The headers of a request by the demo user. */
  signedIn: Record<string, string>;
}

async function answer(res: Response): Promise<Answer> {
  const body = (await res.json()) as Json;
  if (body.error !== undefined) return { status: res.status, body: { code: body.error.code } };
  const created = res.status === 201;
  return {
    status: res.status,
    body: created ? { ...body, createdAt: expect.any(String) } : body,
    ...(created ? { location: res.headers.get("location") } : {}),
  };
}

/** The scenario: list, empty list, add, list again, bad rating, bad body, anonymous. */
async function scenario(target: Target): Promise<Record<string, Answer>> {
  const list = async (productId: string) => answer(await fetch(`${target.url}${target.reviewsPath(productId)}`));
  const add = async (productId: string, review: unknown, headers: Record<string, string>) =>
    answer(
      await fetch(`${target.url}${target.reviewsPath(productId)}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(review),
      }),
    );
  const seeded = await list("prod-french-press");
  const unknownProduct = await list("prod-nothing-like-it");
  const added = await add("prod-french-press", { rating: 5, body: "  Fine coffee, no fuss. " }, target.signedIn);
  // The new review's time is the only thing the two sides cannot share.
  const listWithAdded = async () => {
    const listed = await list("prod-french-press");
    const items = listed.body.items?.map((r: Json) => (r.id === added.body.id ? { ...r, createdAt: "new" } : r));
    return { ...listed, body: { ...listed.body, items } };
  };
  return {
    seeded,
    unknownProduct,
    added,
    afterAdd: await listWithAdded(),
    badRating: await add("prod-french-press", { rating: 6, body: "x" }, target.signedIn),
    fractionalRating: await add("prod-french-press", { rating: 2.5, body: "x" }, target.signedIn),
    emptyBody: await add("prod-french-press", { rating: 3, body: "   " }, target.signedIn),
    notAnObject: await add("prod-french-press", [1, 2], target.signedIn),
    anonymous: await add("prod-french-press", { rating: 3, body: "x" }, {}),
    unchanged: await listWithAdded(),
  };
}

/** What the legacy answers, written out: both sides are held to it. */
function expectLegacyAnswers(answers: Record<string, Answer>, author: string): void {
  expect(answers.seeded).toMatchObject({ status: 200, body: { count: 2, averageRating: 3.5 } });
  expect(answers.unknownProduct).toEqual({
    status: 200,
    body: { productId: "prod-nothing-like-it", items: [], count: 0, averageRating: null },
  });
  expect(answers.added).toEqual({
    status: 201,
    body: {
      id: "rev-11",
      productId: "prod-french-press",
      author,
      rating: 5,
      body: "Fine coffee, no fuss.",
      createdAt: expect.any(String),
    },
    location: "/reviews/rev-11",
  });
  expect(answers.afterAdd).toMatchObject({ status: 200, body: { count: 3, averageRating: 4 } });
  for (const bad of ["badRating", "fractionalRating", "emptyBody", "notAnObject"]) {
    expect(answers[bad], bad).toEqual({ status: 400, body: { code: "INVALID_REVIEW" } });
  }
  expect(answers.anonymous).toEqual({ status: 401, body: { code: "UNAUTHENTICATED" } });
  expect(answers.unchanged).toEqual(answers.afterAdd);
}

describe("the reviews contract: the legacy monolith and the reviews service answer alike", () => {
  let dataDir: string;
  let legacy: LegacyMonolith;
  let shopLegacy: LegacyMonolith;
  let shop: RunningApp;
  let legacyAnswers: Record<string, Answer>;
  let serviceAnswers: Record<string, Answer>;
  let author: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-reviews-contract-"));
    legacy = await startLegacyMonolith({ dbFile: join(dataDir, "legacy.db") });
    // The shop's own monolith, which its reviews service copies; the service then takes reads and writes.
    shopLegacy = await startLegacyMonolith({ dbFile: join(dataDir, "shop-legacy.db") });
    shop = await startShop({ port: 0, listenHost: "127.0.0.1", dataDir, legacyUrl: shopLegacy.url });
    const client = new ShopClient(shop.url as string);
    const adminAuth = await client.signIn("admin@flotilla.dev", "admin-password");
    const backfill = await client.send("POST", "/api/v1/admin/reviews/sync", adminAuth, {});
    expect(backfill.body).toMatchObject({ behind: 0, lastError: null });
    // Writes move to the service too: the scenario's review is stored by the service itself.
    const moved = await client.send("PUT", "/api/v1/admin/reviews/writes", adminAuth, { to: "service" });
    expect(moved.body).toMatchObject({ writesTo: "service", enabled: false });
    const reads = await client.send("PUT", "/_flotilla/traffic/reviews", adminAuth, {
      weights: { legacy: 0, service: 100 },
    });
    expect(reads.status).toBe(200);

    const auth = await client.signIn("demo@flotilla.dev", "demo-password");
    author = (await client.send("GET", "/api/v1/me", auth)).body.id;
    legacyAnswers = await scenario({
      url: legacy.url,
      reviewsPath: (id) => `/products/${id}/reviews`,
      signedIn: { [USER_HEADER]: author },
    });
    serviceAnswers = await scenario({
      url: shop.url as string,
      reviewsPath: (id) => `/api/v1/products/${id}/reviews`,
      signedIn: auth,
    });
  });
  afterAll(async () => {
    await shop?.stop();
    await shopLegacy?.close();
    await legacy?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("the legacy monolith answers as the contract says", () => {
    expectLegacyAnswers(legacyAnswers, author);
  });

  it("the reviews service, through the gateway, answers as the contract says", () => {
    expectLegacyAnswers(serviceAnswers, author);
  });

  it("gives the very same answers, step by step, the seeded reviews' ids and times included", () => {
    for (const step of Object.keys(legacyAnswers)) {
      expect(serviceAnswers[step], step).toEqual(legacyAnswers[step]);
    }
  });

  it("was served by the service, not the legacy, on the shop's side", async () => {
    const res = await fetch(`${shop.url}/api/v1/products/prod-french-press/reviews`);
    expect(res.headers.get("flotilla-variant")).toBe("service");
    const status = (await (await fetch(`${shopLegacy.url}/reviews?after=0&limit=1`)).json()) as Json;
    expect(status.lastId).toBe(10);
  });

  it("says what is wrong with a review in the legacy's words", async () => {
    const auth = await new ShopClient(shop.url as string).signIn("demo@flotilla.dev", "demo-password");
    const res = await fetch(`${shop.url}/api/v1/products/prod-moka-pot/reviews`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ rating: 0, body: "x" }),
    });
    const viaLegacy = await fetch(`${legacy.url}/products/prod-moka-pot/reviews`, {
      method: "POST",
      headers: { [USER_HEADER]: "u", "content-type": "application/json" },
      body: JSON.stringify({ rating: 0, body: "x" }),
    });
    const [service, old] = [(await res.json()) as Json, (await viaLegacy.json()) as Json];
    expect(service.error).toMatchObject({ code: old.error.code, message: old.error.message });
  });
});
