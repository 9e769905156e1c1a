/** @module Limits on the request head and on slow clients: header count and size (431), head and keep-alive timeouts. */
import { once } from "node:events";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { createGateway } from "../src/index.js";
import { headerOf, raw, rawErrorOf, startGateway, statusOf } from "./support/harness.js";

const withHeaders = (count: number, make: (i: number) => string) =>
  `GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${Array.from({ length: count - 2 }, (_, i) => `${make(i)}\r\n`).join("")}\r\n`;

describe("the request head", () => {
  it("answers more headers than maxHeaders (100 by default) with 431, and exactly that many with 200", async () => {
    const t = await startGateway();
    try {
      expect(
        statusOf(
          await raw(
            t.url,
            withHeaders(100, (i) => `x-h${i}: 1`),
          ),
        ),
      ).toBe(200);
      const response = await raw(
        t.url,
        withHeaders(101, (i) => `x-h${i}: 1`),
      );
      expect(statusOf(response)).toBe(431);
      expect(headerOf(response, "x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
      expect(rawErrorOf(response)).toMatchObject({ code: "FLOTILLA_HEADERS_TOO_LARGE", details: { limit: 100 } });
      // Past Node's own default count (2000), which would drop the excess silently rather than refuse it.
      expect(
        statusOf(
          await raw(
            t.url,
            withHeaders(2500, () => "a:1"),
          ),
        ),
      ).toBe(431);
    } finally {
      await t.stop();
    }
  });

  it("answers a head over maxHeaderBytes with 431", async () => {
    const t = await startGateway({ maxHeaderBytes: 4096, maxHeaders: 10 });
    try {
      expect(
        statusOf(
          await raw(
            t.url,
            withHeaders(3, () => `x-big: ${"a".repeat(3000)}`),
          ),
        ),
      ).toBe(200);
      const response = await raw(
        t.url,
        withHeaders(3, () => `x-big: ${"a".repeat(5000)}`),
      );
      expect(statusOf(response)).toBe(431);
      expect(rawErrorOf(response).code).toBe("FLOTILLA_HEADERS_TOO_LARGE");
      expect(
        statusOf(
          await raw(
            t.url,
            withHeaders(11, (i) => `x-h${i}: 1`),
          ),
        ),
      ).toBe(431);
    } finally {
      await t.stop();
    }
  });

  it("cuts off a client sending its head one byte at a time once headersTimeoutMs passes", async () => {
    const t = await startGateway({ headersTimeoutMs: 300 });
    try {
      const { hostname, port } = new URL(t.url);
      const socket = connect(Number(port), hostname);
      await once(socket, "connect");
      let answer = "";
      socket.on("data", (c: Buffer) => {
        answer += c.toString("latin1");
      });
      socket.on("error", () => {});
      const head = `GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ${"a".repeat(200)}\r\n\r\n`;
      let sent = 0;
      const drip = setInterval(() => socket.writable && socket.write(head.charAt(sent++)), 50);
      const started = Date.now();
      await once(socket, "close");
      clearInterval(drip);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(sent).toBeLessThan(head.length);
      if (answer !== "") {
        expect(statusOf(answer)).toBe(408);
        expect(rawErrorOf(answer).code).toBe("FLOTILLA_REQUEST_TIMEOUT");
      }
    } finally {
      await t.stop();
    }
  });

  it("sets Node's timeouts and limits from the options, with documented defaults", async () => {
    const t = await startGateway();
    try {
      const server = t.gateway.app.server;
      expect(server.headersTimeout).toBe(10_000);
      expect(server.requestTimeout).toBe(30_000);
      expect(server.keepAliveTimeout).toBe(72_000);
      expect(server.maxHeadersCount).toBe(101);
    } finally {
      await t.stop();
    }
    const custom = await startGateway({ headersTimeoutMs: 2_000, requestTimeoutMs: 5_000, keepAliveTimeoutMs: 4_000 });
    try {
      const server = custom.gateway.app.server;
      expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([2_000, 5_000, 4_000]);
    } finally {
      await custom.stop();
    }
  });

  it.each([
    [{ maxConcurrentRequests: 0 }],
    [{ bodyLimitBytes: -1 }],
    [{ maxHeaders: 1.5 }],
    [{ headersTimeoutMs: 60_000, requestTimeoutMs: 30_000 }],
  ])("refuses the nonsensical limits %j with FLOTILLA_CONFIG", (limits) => {
    const host = {} as Parameters<typeof createGateway>[0]["host"];
    expect(() => createGateway({ host, routes: [], ...limits })).toThrow(
      expect.objectContaining({ code: "FLOTILLA_CONFIG" }),
    );
  });
});
