/**
 * @module The reviews service's copy of the legacy monolith's reviews, against a real monolith over HTTP:
 * the backfill, the sync that follows new legacy writes, the service's own ids after the legacy's, and
 * each failure mode (unreachable, refused, malformed, conflict).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHost, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { type LegacyMonolith, startLegacyMonolith, USER_HEADER } from "@flotilla/example-legacy-monolith";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { reviews } from "../src/services/reviews/contract.js";
import { createReviewsService } from "../src/services/reviews/service.js";
import type { Json } from "./support/shop-client.js";

const admin = { subject: "admin-1", roles: ["admin"] };
const buyer = { subject: "user-7", roles: [] };

async function legacyList(legacy: LegacyMonolith, productId: string): Promise<Json> {
  return (await fetch(`${legacy.url}/products/${productId}/reviews`)).json();
}

async function legacyAdd(legacy: LegacyMonolith, productId: string, rating: number, body: string): Promise<Json> {
  const res = await fetch(`${legacy.url}/products/${productId}/reviews`, {
    method: "POST",
    headers: { "content-type": "application/json", [USER_HEADER]: "user-3" },
    body: JSON.stringify({ rating, body }),
  });
  return res.json();
}

function reviewsHost(legacyUrl: string): Host {
  return createHost({
    // A long pause: each test drives its passes with syncNow.
    services: [createReviewsService({ legacyUrl, syncEveryMs: 60_000 })],
    resources: [sqliteDatabases({ dataDir: ":memory:" })],
    transport: "memory://?faithful=1",
    validateOutput: true,
  });
}

describe("reviews copied from the legacy monolith", () => {
  let legacy: LegacyMonolith;
  let host: Host;
  beforeAll(async () => {
    legacy = await startLegacyMonolith({ dbFile: ":memory:" });
    host = reviewsHost(legacy.url);
    await host.start();
  });
  afterAll(async () => {
    await host.stop();
    await legacy.close();
  });

  it("backfills every legacy review, answering each product exactly as the legacy does", async () => {
    const status = await host.call(reviews.syncNow, {}, { caller: admin });
    expect(status).toMatchObject({ enabled: true, behind: 0, conflicts: 0, lastError: null });
    expect(status.imported).toBeGreaterThanOrEqual(10);
    for (const productId of ["prod-french-press", "prod-espresso-machine", "prod-unknown"]) {
      expect(await host.call(reviews.listReviews, { productId })).toEqual(await legacyList(legacy, productId));
    }
  });

  it("follows the legacy's new writes, copying each once however many passes run", async () => {
    const added = await legacyAdd(legacy, "prod-moka-pot", 2, "Too bitter for me.");
    await Promise.all([
      host.call(reviews.syncNow, {}, { caller: admin }),
      host.call(reviews.syncNow, {}, { caller: admin }),
    ]);
    const listed = await host.call(reviews.listReviews, { productId: "prod-moka-pot" });
    expect(listed).toEqual(await legacyList(legacy, "prod-moka-pot"));
    expect(listed.items.filter((r) => r.id === added.id)).toHaveLength(1);
  });

  it("forwards a write to the legacy while the legacy takes them, and lists it at once with the legacy's id", async () => {
    const review = { productId: "prod-ceramic-mug", rating: 4, body: "Sturdy." };
    const forwarded = await host.call(reviews.addReview, review, { caller: buyer });
    const inLegacy = (await legacyList(legacy, "prod-ceramic-mug")).items.at(-1);
    expect(inLegacy).toEqual(forwarded);
    expect(forwarded).toMatchObject({ author: "user-7", rating: 4, body: "Sturdy." });
    expect(await host.call(reviews.listReviews, { productId: "prod-ceramic-mug" })).toEqual(
      await legacyList(legacy, "prod-ceramic-mug"),
    );
    expect(await host.call(reviews.syncStatus, {}, { caller: admin })).toMatchObject({
      writesTo: "legacy",
      ownReviews: 0,
    });
  });

  it("takes the writes itself once they move, numbering its reviews after the legacy's newest", async () => {
    const legacyBefore = await legacyAdd(legacy, "prod-moka-pot", 3, "Written just before the move.");
    const moved = await host.call(reviews.setWrites, { to: "service" }, { caller: admin });
    // The move copied the legacy's last writes first, then stopped the sync.
    expect(moved).toMatchObject({
      writesTo: "service",
      enabled: false,
      behind: 0,
      lastId: Number(legacyBefore.id.slice(4)),
    });
    const own = await host.call(
      reviews.addReview,
      { productId: "prod-moka-pot", rating: 5, body: " Great. " },
      { caller: buyer },
    );
    expect(own).toMatchObject({ id: `rev-${moved.legacyLastId + 1}`, author: "user-7", rating: 5, body: "Great." });
    expect((await legacyList(legacy, "prod-moka-pot")).items.map((r: Json) => r.id)).not.toContain(own.id);
    expect(await host.call(reviews.syncStatus, {}, { caller: admin })).toMatchObject({ ownReviews: 1 });

    // A write that still reached the legacy after the move takes the same number there: the sync, turned
    // back on to catch such stragglers, counts it as a conflict and never overwrites the service's review.
    const late = await legacyAdd(legacy, "prod-moka-pot", 1, "Late.");
    expect(late.id).toBe(own.id);
    await host.call(reviews.setSync, { enabled: true }, { caller: admin });
    expect((await host.call(reviews.syncNow, {}, { caller: admin })).conflicts).toBe(1);
    const listed = await host.call(reviews.listReviews, { productId: "prod-moka-pot" });
    expect(listed.items.find((r) => r.id === own.id)).toEqual(own);
  });

  it("refuses bad reviews with the legacy's code and message, and anonymous or non-admin callers", async () => {
    const cases: Array<[unknown, unknown, string]> = [
      [0, "x", "rating must be a whole number from 1 to 5"],
      [4.5, "x", "rating must be a whole number from 1 to 5"],
      ["5", "x", "rating must be a whole number from 1 to 5"],
      [3, "   ", "body must be text of 1 to 2000 characters"],
      [3, "x".repeat(2001), "body must be text of 1 to 2000 characters"],
      [3, undefined, "body must be text of 1 to 2000 characters"],
    ];
    for (const [rating, body, message] of cases) {
      const call = host.call(reviews.addReview, { productId: "p", rating, body }, { caller: buyer });
      await expect(call).rejects.toMatchObject({ code: "INVALID_REVIEW", status: "INVALID_ARGUMENT", message });
    }
    await expect(host.call(reviews.addReview, { productId: "p", rating: 3, body: "x" })).rejects.toMatchObject({
      code: "SIGN_IN_REQUIRED",
    });
    await expect(host.call(reviews.syncNow, {}, { caller: buyer })).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
    });
  });

  it("stays where it is while turned off", async () => {
    await host.call(reviews.setSync, { enabled: false }, { caller: admin });
    await legacyAdd(legacy, "prod-tea-sampler", 3, "Not while off.");
    const off = await host.call(reviews.syncNow, {}, { caller: admin });
    expect(off).toMatchObject({ enabled: false });
    const page = (await (await fetch(`${legacy.url}/reviews?after=0&limit=1`)).json()) as Json;
    expect(off.lastId).toBeLessThan(page.lastId);
    const on = await host.call(reviews.setSync, { enabled: true }, { caller: admin });
    expect(on.enabled).toBe(true);
    expect((await host.call(reviews.syncNow, {}, { caller: admin })).behind).toBe(0);
  });
});

describe("the reviews sync when the legacy fails", () => {
  let server: Server;
  let answer: (res: import("node:http").ServerResponse) => void;
  let host: Host | undefined;
  beforeAll(async () => {
    server = createServer((_req, res) => answer(res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cases: Array<[string, () => string, (res: import("node:http").ServerResponse) => void, RegExp]> = [
    ["unreachable", () => "http://127.0.0.1:1", () => undefined, /^legacy unreachable/],
    ["refused", url, (res) => res.writeHead(500).end("boom"), /^legacy refused: 500 boom/],
    ["malformed", url, (res) => res.writeHead(200).end('{"items":[{"id":1}]}'), /^legacy page malformed/],
  ];
  it("stores nothing and says so when a forwarded write gets no review back, and keeps writes with the legacy", async () => {
    answer = (res) => res.writeHead(503).end("down");
    host = reviewsHost(url());
    await host.start();
    const write = host.call(reviews.addReview, { productId: "p", rating: 3, body: "x" }, { caller: buyer });
    await expect(write).rejects.toMatchObject({ code: "LEGACY_UNAVAILABLE", status: "UNAVAILABLE" });
    const move = host.call(reviews.setWrites, { to: "service" }, { caller: admin });
    await expect(move).rejects.toMatchObject({ code: "LEGACY_UNAVAILABLE" });
    const status = await host.call(reviews.syncStatus, {}, { caller: admin });
    expect(status).toMatchObject({ writesTo: "legacy", imported: 0, ownReviews: 0 });
    expect(await host.call(reviews.listReviews, { productId: "p" })).toMatchObject({ count: 0 });
  });

  for (const [name, target, respond, error] of cases) {
    it(`keeps its cursor and says why when the legacy is ${name}`, async () => {
      answer = respond;
      host = reviewsHost(target());
      await host.start();
      const pass = host.call(reviews.syncNow, {}, { caller: admin });
      await expect(pass).rejects.toMatchObject({ code: "LEGACY_UNAVAILABLE", message: expect.stringMatching(error) });
      const status = await host.call(reviews.syncStatus, {}, { caller: admin });
      expect(status).toMatchObject({ lastId: 0, imported: 0, lastError: expect.stringMatching(error) });
    });
  }
});
