/** @module Policies: order, caller identity, rejection with headers, short-circuiting, timeouts. */
import { FlotillaError } from "@flotilla/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Policy, route } from "../src/index.js";
import { errorOf, seenBy, startGateway, type TestGateway } from "./support/harness.js";
import { catalog, probe, testRoutes } from "./support/services.js";

describe("policies", () => {
  const order: string[] = [];
  let hits = 0;
  const authenticate: Policy = {
    name: "test-auth",
    onRequest(ex) {
      order.push("global:onRequest");
      const user = ex.request.headers["x-test-user"];
      if (typeof user === "string") ex.caller = { subject: user, roles: ["customer"] };
    },
    async around(_ex, next) {
      order.push("global:around:before");
      const output = await next();
      order.push("global:around:after");
      return output;
    },
  };
  const requireCaller: Policy = {
    name: "require-caller",
    onRequest(ex) {
      order.push("route:onRequest");
      ex.setHeader("www-authenticate", 'Bearer realm="test"');
      if (ex.caller === undefined) throw new FlotillaError("UNAUTHENTICATED", "sign in first");
    },
  };
  const cache = new Map<string, unknown>();
  const caching: Policy = {
    name: "cache",
    async around(ex, next) {
      order.push("route:around");
      const key = JSON.stringify(ex.input);
      if (cache.has(key)) {
        ex.setHeader("x-cache", "hit");
        return cache.get(key);
      }
      hits++;
      const output = await next();
      cache.set(key, output);
      ex.setHeader("x-cache", "miss");
      return output;
    },
  };
  const shortTimeout: Policy = {
    name: "short-timeout",
    onRequest(ex) {
      ex.timeoutMs = 1234;
    },
  };
  const badHeader: Policy = { name: "bad-header", onRequest: (ex) => ex.setHeader("x-evil", "a\r\nset-cookie: x=1") };
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway({
      policies: [authenticate],
      routes: [
        route({ method: "GET", path: "/me", action: probe.inspect, policies: [requireCaller] }),
        route({ method: "GET", path: "/cached/:id", action: catalog.getProduct, policies: [caching] }),
        route({ method: "GET", path: "/short", action: probe.inspect, policies: [shortTimeout] }),
        route({ method: "GET", path: "/bad-header", action: probe.inspect, policies: [badHeader] }),
        ...testRoutes,
      ],
    });
  });
  afterAll(() => t.stop());

  it("runs global policies before the route's and lets them set the caller services see", async () => {
    order.length = 0;
    const res = await fetch(`${t.url}/me`, { headers: { "x-test-user": "u-1" } });
    expect(res.status).toBe(200);
    expect((await seenBy(res)).caller).toEqual({ subject: "u-1", roles: ["customer"] });
    expect(order).toEqual(["global:onRequest", "route:onRequest", "global:around:before", "global:around:after"]);
  });

  it("answers a policy's rejection with its error, keeping headers the policy set", async () => {
    const res = await fetch(`${t.url}/me`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="test"');
    expect(res.headers.get("x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
    expect(await errorOf(res)).toMatchObject({ code: "UNAUTHENTICATED", message: "sign in first" });
  });

  it("lets an around hook answer without calling the action", async () => {
    order.length = 0;
    const first = await fetch(`${t.url}/cached/p1`);
    const second = await fetch(`${t.url}/cached/p1`);
    expect([first.headers.get("x-cache"), second.headers.get("x-cache")]).toEqual(["miss", "hit"]);
    expect(await second.json()).toEqual(await first.json());
    expect(hits).toBe(1);
    expect(order.slice(0, 3)).toEqual(["global:onRequest", "global:around:before", "route:around"]);
  });

  it("lets a policy set the call's timeout", async () => {
    const seen = await seenBy(await fetch(`${t.url}/short`));
    expect(seen.remainingMs).toBeLessThanOrEqual(1234);
    expect(seen.remainingMs).toBeGreaterThan(0);
  });

  it("refuses a header value that would split the response", async () => {
    const res = await fetch(`${t.url}/bad-header`);
    expect(res.status).toBe(500);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect((await errorOf(res)).code).toBe("INTERNAL");
  });
});
