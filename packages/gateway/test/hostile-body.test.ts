/** @module Hostile bodies: oversized, malformed, non-UTF-8, deeply nested, poisoned, wrongly typed. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exceedsDepth } from "../src/internal.js";
import {
  expectError,
  headerOf,
  postJson,
  raw,
  seenBy,
  startGateway,
  statusOf,
  type TestGateway,
} from "./support/harness.js";

const send = (url: string, body: RequestInit["body"], contentType?: string) =>
  fetch(url, { method: "POST", body, headers: contentType === undefined ? {} : { "content-type": contentType } });

describe("hostile bodies", () => {
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

  it("refuses a body over the limit with 413, by content length", async () => {
    const error = await expectError(
      await postJson(`${t.url}/inspect`, { blob: "x".repeat(100 * 1024) }),
      413,
      "FLOTILLA_PAYLOAD_TOO_LARGE",
    );
    expect(error.details).toEqual({ limit: 64 * 1024 });
  });

  it("refuses a streamed (chunked) body once it passes the limit", async () => {
    const chunk = new TextEncoder().encode(`"${"x".repeat(16 * 1024)}",`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ === 0) controller.enqueue(new TextEncoder().encode("["));
        if (sent > 64) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${t.url}/inspect`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
      duplex: "half",
    } as RequestInit);
    await expectError(res, 413, "FLOTILLA_PAYLOAD_TOO_LARGE");
  });

  it("refuses a 10 MiB body on the default 1 MiB limit", async () => {
    const big = await startGateway();
    try {
      await expectError(
        await send(`${big.url}/inspect`, "[".padEnd(10 * 1024 * 1024, " "), "application/json"),
        413,
        "FLOTILLA_PAYLOAD_TOO_LARGE",
      );
    } finally {
      await big.stop();
    }
  });

  it.each([
    ["truncated", "{bad"],
    ["trailing comma", "[1,]"],
    ["trailing garbage", '{"a":1}garbage'],
    ["a NUL byte", "\u0000"],
    ["single quotes", "{'a':1}"],
    ["empty", ""],
    ["whitespace only", "   "],
  ])("answers 400 FLOTILLA_MALFORMED_JSON to a %s body", async (_, body) => {
    await expectError(await send(`${t.url}/inspect`, body, "application/json"), 400, "FLOTILLA_MALFORMED_JSON");
  });

  it("answers 400 to a body that is not UTF-8", async () => {
    const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]);
    await expectError(await send(`${t.url}/inspect`, body, "application/json"), 400, "FLOTILLA_MALFORMED_JSON");
  });

  it.each([
    ["__proto__", '{"__proto__":{"isAdmin":true}}'],
    ["constructor.prototype", '{"constructor":{"prototype":{"isAdmin":true}}}'],
  ])("refuses prototype poisoning through %s", async (_, body) => {
    await expectError(await send(`${t.url}/inspect`, body, "application/json"), 400, "FLOTILLA_MALFORMED_JSON");
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it("refuses deeply nested JSON, balanced or not", async () => {
    const deep = "[".repeat(20_000) + "]".repeat(20_000);
    const error = await expectError(
      await send(`${t.url}/inspect`, deep, "application/json"),
      400,
      "FLOTILLA_JSON_TOO_DEEP",
    );
    expect(error.details).toEqual({ limit: 64 });
    const objects = '{"a":'.repeat(5_000) + "1" + "}".repeat(5_000);
    await expectError(await send(`${t.url}/inspect`, objects, "application/json"), 400, "FLOTILLA_JSON_TOO_DEEP");
    await expectError(
      await send(`${t.url}/inspect`, "[".repeat(40_000), "application/json"),
      400,
      "FLOTILLA_JSON_TOO_DEEP",
    );
  });

  it("accepts nesting within the limit and brackets inside strings", async () => {
    const nested = JSON.parse('{"a":'.repeat(60) + "1" + "}".repeat(60));
    const res = await postJson(`${t.url}/inspect`, { nested, text: "[[[[{{{{".repeat(100), quote: 'a\\"[[' });
    expect(res.status).toBe(200);
    expect((await seenBy(res)).input.quote).toBe('a\\"[[');
    expect(exceedsDepth('["\\\\"]', 1)).toBe(false);
    expect(exceedsDepth('[["\\"]"]]', 1)).toBe(true);
  });

  it.each([
    ["text/plain", "text/plain"],
    ["xml", "application/xml"],
    ["form", "application/x-www-form-urlencoded"],
    ["a json look-alike", "application/jsonp"],
  ])("answers 415 to a %s body", async (_, type) => {
    await expectError(await send(`${t.url}/inspect`, "{}", type), 415, "FLOTILLA_UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers 415 to a body without a content type", async () => {
    const response = await raw(t.url, "POST /inspect HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}");
    expect(statusOf(response)).toBe(415);
    expect(headerOf(response, "x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each(["/", "application", "json", "application/json\u0000"])(
    "answers 415 to the malformed content type %j",
    async (type) => {
      const response = await raw(
        t.url,
        `POST /inspect HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: ${type}\r\ncontent-length: 2\r\n\r\n{}`,
      );
      expect(statusOf(response)).toBe(type.includes("\u0000") ? 400 : 415);
      expect(headerOf(response, "x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
    },
  );

  it("accepts application/json with a charset", async () => {
    expect((await send(`${t.url}/inspect`, '{"a":1}', "application/json; charset=utf-8")).status).toBe(200);
  });
});
