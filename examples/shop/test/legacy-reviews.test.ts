/** @module The shop's reviews, still served by the legacy monolith through the gateway: embedded by `startShop`, or wherever the environment says. */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningApp } from "@flotilla/app";
import { type LegacyMonolith, startLegacyMonolith } from "@flotilla/example-legacy-monolith";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startShop } from "../src/app.js";
import { type Json, ShopClient } from "./support/shop-client.js";

describe("reviews from the legacy monolith", () => {
  let dataDir: string;
  let shop: RunningApp;
  let url: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-legacy-"));
    shop = await startShop({ port: 0, listenHost: "127.0.0.1", dataDir });
    url = shop.url as string;
  });
  afterAll(async () => {
    await shop.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves a product's reviews publicly, with the gateway's trace id", async () => {
    const res = await fetch(`${url}/api/v1/products/prod-french-press/reviews`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ productId: "prod-french-press", count: 2, averageRating: 3.5 });
    expect(body.items[0]).toMatchObject({ id: expect.stringMatching(/^rev-\d+$/), rating: 4, author: "Margaret" });
    const none = (await (await fetch(`${url}/api/v1/products/prod-unknown/reviews`)).json()) as Json;
    expect(none).toMatchObject({ count: 0, items: [], averageRating: null });
  });

  it("takes a review only from a signed-in user, who is its author", async () => {
    const review = { rating: 5, body: "Makes a great cup." };
    const path = `${url}/api/v1/products/prod-burr-grinder/reviews`;
    const json = { "content-type": "application/json" };
    const anonymous = await fetch(path, { method: "POST", headers: json, body: JSON.stringify(review) });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as Json).error.code).toBe("UNAUTHENTICATED");

    const auth = await new ShopClient(url).signIn("demo@flotilla.dev", "demo-password");
    const me = (await (await fetch(`${url}/api/v1/me`, { headers: auth })).json()) as Json;
    // A forged user header is dropped: the monolith hears only what the gateway verified.
    const headers = { ...json, ...auth, "x-user-id": "someone-else" };
    const created = await fetch(path, { method: "POST", headers, body: JSON.stringify(review) });
    expect(created.status).toBe(201);
    expect((await created.json()) as Json).toMatchObject({ productId: "prod-burr-grinder", author: me.id, rating: 5 });
    const listed = (await (await fetch(path)).json()) as Json;
    expect(listed.count).toBe(2);

    const invalid = await fetch(path, { method: "POST", headers, body: JSON.stringify({ rating: 9, body: "x" }) });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as Json).error.code).toBe("INVALID_REVIEW");
  });

  it("serves the monolith's store info", async () => {
    const res = await fetch(`${url}/api/v1/store-info`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).name).toBeTruthy();
  });
});

describe("a legacy monolith named by the environment", () => {
  let legacy: LegacyMonolith;
  let shop: RunningApp;
  let dataDir: string;
  const served: string[] = [];
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-legacy-env-"));
    legacy = await startLegacyMonolith({ dbFile: ":memory:" });
    legacy.server.on("request", (req: { url?: string }) => void served.push(req.url ?? ""));
    process.env.FLOTILLA_UPSTREAM_LEGACY = legacy.url;
    shop = await startShop({ port: 0, listenHost: "127.0.0.1", dataDir });
  });
  afterAll(async () => {
    delete process.env.FLOTILLA_UPSTREAM_LEGACY;
    await shop.stop();
    await legacy.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("leaves no monolith database in the shop's data directory", () => {
    expect(existsSync(join(dataDir, "legacy-reviews.db"))).toBe(false);
  });

  it("is the one the gateway proxies to, and no monolith starts embedded", async () => {
    const res = await fetch(`${shop.url}/api/v1/products/prod-espresso-machine/reviews`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).count).toBe(2);
    expect(served).toContain("/products/prod-espresso-machine/reviews");
  });
});
