/** @module Paths that could mean another route (dot segments, encoded slashes) and request smuggling: refused, never routed. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { route } from "../src/index.js";
import { raw, rawErrorOf, startGateway, statusOf, type TestGateway } from "./support/harness.js";
import { probe, reached, testRoutes } from "./support/services.js";

const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`;

describe("paths and smuggling", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway({
      routes: [
        route({ method: "GET", path: "/api/v1/admin/inventory", action: probe.admin, input: () => ({}) }),
        route({ method: "GET", path: "/api/v1/admin/x", action: probe.admin, input: () => ({}) }),
        ...testRoutes,
      ],
    });
  });
  afterAll(() => t.stop());

  it("reaches the admin route only by its own path", async () => {
    const before = reached.admin;
    expect(statusOf(await raw(t.url, get("/api/v1/admin/inventory")))).toBe(200);
    expect(reached.admin).toBe(before + 1);
  });

  it.each([
    ["/api/v1/products/..%2fadmin%2finventory", "encoded slash"],
    ["/api/v1/products/..%2Fadmin%2Finventory", "encoded slash"],
    ["/api/v1/admin/../admin/x", "dot segment"],
    ["/api/v1/products/%2e%2e/%2e%2e/admin/inventory", "dot segment"],
    ["/api/v1/products/.%2E/../admin/inventory", "dot segment"],
    ["/api/v1/./admin/x", "dot segment"],
    ["/api/v1/admin/x/..", "dot segment"],
    ["//api/v1/admin/x", "empty segment"],
    ["/api/v1//admin/x", "empty segment"],
    ["/api/v1/admin%5cx", "encoded slash"],
    ["/api/v1/admin\\x", "encoded slash"],
  ])("answers %s with 400 FLOTILLA_BAD_PATH (%s), never reaching a route", async (path, reason) => {
    const before = reached.admin;
    const response = await raw(t.url, get(path));
    expect(statusOf(response)).toBe(400);
    expect(rawErrorOf(response)).toMatchObject({ code: "FLOTILLA_BAD_PATH", details: { reason } });
    expect(reached.admin).toBe(before);
  });

  it("does the same through fetch, which normalizes what it can before sending", async () => {
    const before = reached.admin;
    for (const path of ["/api/v1/products/..%2fadmin%2finventory", "/api/v1/products/%2e%2e/%2e%2e/admin/inventory"]) {
      const res = await fetch(`${t.url}${path}`);
      expect([400, 404]).toContain(res.status);
    }
    expect(reached.admin).toBe(before);
  });

  it("leaves dots inside a segment and in the query alone", async () => {
    expect(statusOf(await raw(t.url, get("/api/v1/products/p1?next=../admin")))).toBe(200);
    expect(statusOf(await raw(t.url, get("/api/v1/products/v1.2..3")))).toBe(404);
  });

  it.each([
    [
      "Content-Length with Transfer-Encoding",
      "POST /inspect HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /api/v1/admin/inventory HTTP/1.1\r\nhost: x\r\n\r\n",
    ],
    [
      "two differing Content-Lengths",
      "POST /inspect HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 60\r\n\r\n{}GET /api/v1/admin/inventory HTTP/1.1\r\nhost: x\r\n\r\n",
    ],
    [
      "a Transfer-Encoding other than chunked last",
      "POST /inspect HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    ],
  ])("answers a request with %s with 400 and nothing behind it is served", async (_, request) => {
    const before = reached.admin;
    const response = await raw(t.url, request);
    expect(statusOf(response)).toBe(400);
    expect(rawErrorOf(response).code).toBe("FLOTILLA_BAD_REQUEST");
    // Only one answer: a smuggled second request behind the first is never parsed.
    expect(response.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(reached.admin).toBe(before);
  });
});
