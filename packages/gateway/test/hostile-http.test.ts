/** @module Hostile URLs, headers and raw HTTP: nothing a client sends may crash the gateway. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectError,
  headerOf,
  raw,
  rawErrorOf,
  seenBy,
  startGateway,
  statusOf,
  type TestGateway,
} from "./support/harness.js";

describe("hostile URLs, headers and HTTP", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway({ bodyLimitBytes: 64 * 1024 });
  });
  afterAll(async () => {
    // Whatever came before, the process is alive and still serving.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/api/v1/products/p1`)).status).toBe(200);
    await t.stop();
  });

  it.each([
    ["an encoded traversal", "..%2F..%2Fetc%2Fpasswd", 400, "FLOTILLA_BAD_PATH"],
    ["encoded dot segments", "%2e%2e%2f%2e%2e", 400, "FLOTILLA_BAD_PATH"],
    ["dots inside a segment", "p1..x", 404, "PRODUCT_NOT_FOUND"],
    ["a NUL byte", "p1%00", 404, "PRODUCT_NOT_FOUND"],
    ["unicode", "%F0%9F%92%A3", 404, "PRODUCT_NOT_FOUND"],
    ["a broken escape", "%ZZ", 400, "FLOTILLA_BAD_REQUEST"],
    ["an over-long id", "x".repeat(5000), 400, "FLOTILLA_BAD_REQUEST"],
    ["an id the contract refuses", "y".repeat(80), 400, "INVALID_ARGUMENT"],
  ])("answers %s in an id with a clean error", async (_, id, http, code) => {
    await expectError(await fetch(`${t.url}/api/v1/products/${id}`), http, code);
  });

  it("answers 400 to unnormalized paths rather than resolving them", async () => {
    const response = await raw(
      t.url,
      "GET /api/v1/products/../../healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    expect(statusOf(response)).toBe(400);
    expect(rawErrorOf(response)).toMatchObject({ code: "FLOTILLA_BAD_PATH", details: { reason: "dot segment" } });
  });

  it("treats hostile query keys as data", async () => {
    const res = await fetch(`${t.url}/inspect/x?__proto__=1&constructor=2&toString=3`);
    expect(res.status).toBe(200);
    expect((await seenBy(res)).input).toMatchObject({ constructor: "2", toString: "3", id: "x" });
    await expectError(await fetch(`${t.url}/api/v1/products?limit=1&limit=2`), 400, "INVALID_ARGUMENT");
  });

  it("answers unparseable HTTP with 400 and still stamps a trace id", async () => {
    for (const request of [
      "GET /healthz HTTP/1.1\r\nhost: x\r\nx-bad: a\u0001b\r\n\r\n",
      "GARBAGE\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
    ]) {
      const response = await raw(t.url, request);
      expect(statusOf(response)).toBe(400);
      expect(headerOf(response, "x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
      expect(rawErrorOf(response).code).toBe("FLOTILLA_BAD_REQUEST");
    }
  });

  it("answers oversized headers with 431", async () => {
    const response = await raw(t.url, `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(64 * 1024)}\r\n\r\n`);
    expect(statusOf(response)).toBe(431);
    expect(rawErrorOf(response).code).toBe("FLOTILLA_HEADERS_TOO_LARGE");
  });

  it("copes with duplicate and non-ASCII headers", async () => {
    const response = await raw(
      t.url,
      Buffer.concat([
        Buffer.from("GET /inspect/x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n"),
        Buffer.from("traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"),
        Buffer.from("traceparent: 00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"),
        Buffer.from("x-correlation-id: a\r\nx-correlation-id: b\r\n"),
        Buffer.from([0x78, 0x2d, 0x6c, 0x31, 0x3a, 0x20, 0xe9, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]),
      ]),
    );
    expect(statusOf(response)).toBe(200);
    const traceId = headerOf(response, "x-trace-id");
    expect(traceId).not.toMatch(/f7651916cd43dd8448eb211c80319c/);
    // Node joins duplicates into "a, b", which is not a sane id, so the trace id replaces it.
    expect(headerOf(response, "x-correlation-id")).toBe(headerOf(response, "x-trace-id"));
  });
});
