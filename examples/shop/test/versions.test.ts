/**
 * Two versions of the catalog at once behind one gateway, over a real nats-server with the NATS registry:
 * catalog@1.4.0 (the 1.x contract, no v2 action) and catalog@2.0.0. /api/v2 reaches only 2.x; /api/v1
 * goes where the `catalog` version split sends it — by sticky buckets, header, user — changed through the
 * admin route without a restart, and back to 1.x when 2.x has no instance left.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FlotillaApp, type RunningApp, runApp } from "@flotilla/app";
import { createEdgeKeysFile } from "@flotilla/auth";
import type { Middleware } from "@flotilla/core";
import { bucketOf } from "@flotilla/gateway";
import { type NatsServerHandle, startNatsServer, waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopApp } from "../src/app.js";
import { catalogServiceV1 } from "../src/services/catalog/service.js";
import { withEnv } from "./support/attack.js";

/** Counts the catalog requests each version's process handled. */
function counting(): { middleware: Middleware; count: () => number } {
  let n = 0;
  return {
    count: () => n,
    middleware: {
      name: "count-catalog",
      action: (call, next) => {
        if (call.ref.service === "catalog") n++;
        return next();
      },
    },
  };
}

describe("catalog@1 and catalog@2 behind one gateway", () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-versions-"));
  let nats: NatsServerHandle;
  const v1 = counting();
  const v2 = counting();
  let one: RunningApp;
  let two: RunningApp | undefined;
  let edge: RunningApp;
  let url: string;
  let admin: Record<string, string>;

  beforeAll(async () => {
    nats = await startNatsServer();
    const edgeKeys = join(dir, "edge-keys.json");
    await createEdgeKeysFile(edgeKeys);
    const common = (name: string) => ({
      transport: nats.url,
      registry: nats.url,
      edgeKeys,
      dataDir: join(dir, name),
      tracing: false as const,
      listenHost: "127.0.0.1",
    });
    const v1App: FlotillaApp = { ...shopApp, services: [catalogServiceV1], middleware: [v1.middleware] };
    // One service, one database: both versions' instances share the catalog's file (docs/deployment.md).
    one = await runApp(v1App, { ...common("catalog"), services: ["catalog"] });
    two = await runApp({ ...shopApp, middleware: [v2.middleware] }, { ...common("catalog"), services: ["catalog"] });
    // Uncached, so every request reaches a catalog instance; a rate limit the 400 requests stay under.
    edge = await withEnv({ FLOTILLA_GATEWAY_CACHE: "off", FLOTILLA_RATE_LIMIT: "100000/60" }, () =>
      runApp(shopApp, { ...common("edge"), services: ["identity"], gatewayPort: 0 }),
    );
    url = edge.url ?? "";
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "admin@flotilla.dev", password: "admin-password" }),
    });
    admin = { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
    // Both versions registered and ready, as the gateway's registry sees them.
    await waitFor(async () => (await fetch(`${url}/api/v2/products/prod-french-press`)).status === 200, {
      timeoutMs: 20_000,
    });
  }, 60_000);
  afterAll(async () => {
    await edge?.stop();
    await two?.stop();
    await one?.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const product = (version: 1 | 2, headers: Record<string, string> = {}) =>
    fetch(`${url}/api/v${version}/products/prod-french-press`, { headers });
  const setRules = (rules: unknown) =>
    fetch(`${url}/_flotilla/traffic/catalog`, {
      method: "PUT",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify(rules),
    });
  /** Requests answered by each version's instance during `fn`. */
  async function served(fn: () => Promise<void>): Promise<{ v1: number; v2: number }> {
    const before = { v1: v1.count(), v2: v2.count() };
    await fn();
    return { v1: v1.count() - before.v1, v2: v2.count() - before.v2 };
  }

  it("sends /api/v2 to 2.x only, and /api/v1 to the default 1.x, marked deprecated", async () => {
    const counts = await served(async () => {
      for (let i = 0; i < 10; i++) {
        const res = await product(2);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { price: unknown }).price).toEqual({
          amountCents: expect.any(Number),
          currency: "EUR",
        });
      }
      for (let i = 0; i < 10; i++) {
        const res = await product(1);
        expect(res.status).toBe(200);
        expect(res.headers.get("flotilla-variant")).toBe("v1");
        expect(res.headers.get("sunset")).toBe("Wed, 30 Jun 2027 00:00:00 GMT");
        expect(typeof ((await res.json()) as { price: unknown }).price).toBe("number");
      }
    });
    expect(counts).toEqual({ v1: 10, v2: 10 });
  });

  it("splits /api/v1 by sticky buckets, header and user, changed at run time", async () => {
    const me = (await (await fetch(`${url}/api/v1/me`, { headers: admin })).json()) as { id: string };
    const changed = await setRules({
      weights: { v1: 70, v2: 30 },
      match: [
        { header: "x-catalog-version", value: "2", variant: "v2" },
        { user: me.id, variant: "v2" },
      ],
      sticky: "user",
    });
    expect(changed.status).toBe(200);
    // 400 anonymous clients, each known by its client-id cookie: where each lands is known in advance.
    const clients = Array.from({ length: 400 }, (_, i) => `c${i}`);
    const expected = clients.filter((c) => bucketOf("catalog", `client:${c}`) < 3_000).length;
    const counts = await served(async () => {
      for (const c of clients) {
        const res = await product(1, { cookie: `flotilla-client-id=${c}` });
        const wanted = bucketOf("catalog", `client:${c}`) < 3_000 ? "v2" : "v1";
        expect(res.headers.get("flotilla-variant")).toBe(wanted);
      }
    });
    expect(counts).toEqual({ v1: 400 - expected, v2: expected });
    expect(expected).toBeGreaterThan(80); // about 30% of 400
    expect(expected).toBeLessThan(160);

    expect(await served(async () => void (await product(1, { "x-catalog-version": "2" })))).toEqual({ v1: 0, v2: 1 });
    expect(await served(async () => void (await product(1, admin)))).toEqual({ v1: 0, v2: 1 });
  });

  it("falls back to the default version when the chosen one has no instance left", async () => {
    expect((await setRules({ weights: { v1: 0, v2: 100 } })).status).toBe(200);
    expect(await served(async () => void (await product(1)))).toEqual({ v1: 0, v2: 1 });
    await two?.stop();
    two = undefined;
    const counts = await served(async () => {
      for (let i = 0; i < 5; i++) {
        const res = await product(1);
        expect(res.status).toBe(200);
        expect(res.headers.get("flotilla-variant")).toBe("v2");
      }
    });
    expect(counts).toEqual({ v1: 5, v2: 0 });
  });
});
