/** @module Proxy routes through real HTTP: bodies both ways, header hygiene, Forwarded, trace context, rewrites, policies. */
import { request as httpRequest } from "node:http";
import { FlotillaError } from "@flotilla/core";
import { SpanKind } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticated, type Policy, proxy } from "../../src/index.js";
import { expectError } from "../support/harness.js";
import { type ProxyGateway, startProxyGateway } from "./support/proxy-gateway.js";
import { startTestUpstream, type TestUpstream } from "./support/test-upstream.js";

interface Echo {
  instance: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Sets the caller from `x-test-user`, as an authentication policy would from a token. */
const testAuth: Policy = {
  name: "test-auth",
  onRequest(ex) {
    const user = ex.request.headers["x-test-user"];
    if (typeof user === "string") ex.caller = { subject: user, roles: ["customer"] };
  },
};

describe("proxy routes", () => {
  let upstream: TestUpstream;
  let t: ProxyGateway;
  beforeAll(async () => {
    upstream = await startTestUpstream("a");
    t = await startProxyGateway(
      { legacy: { targets: [upstream.url] } },
      [
        proxy({ path: "/echo/*", methods: ["GET", "HEAD", "POST", "PUT", "DELETE"], upstream: "legacy" }),
        proxy({
          path: "/api/v1/things/:id",
          methods: ["GET"],
          upstream: "legacy",
          rewrite: (req) => `/echo/things/${encodeURIComponent(req.params.id)}${req.search}`,
        }),
        proxy({
          path: "/api/v1/things/:id/reviews",
          methods: ["POST"],
          upstream: "legacy",
          rewrite: (req) => `/echo/reviews/${encodeURIComponent(req.params.id)}`,
          policies: [authenticated()],
          callerHeader: "x-user-id",
        }),
        proxy({ path: "/stream", methods: ["GET"], upstream: "legacy" }),
      ],
      { policies: [testAuth], bodyLimitBytes: 256 * 1024 },
    );
  });
  afterAll(async () => {
    await t.stop();
    await upstream.close();
  });

  it("forwards a GET with its path and query, and answers with the upstream's status and body", async () => {
    const res = await fetch(`${t.url}/echo/a/b?q=coffee&n=2`);
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo).toMatchObject({ instance: "a", method: "GET", url: "/echo/a/b?q=coffee&n=2", body: "" });
    expect(res.headers.get("x-end-to-end")).toBe("kept");
    expect(t.attempts).toContain(`legacy ${upstream.url} 200`);
  });

  it("streams a request body to the upstream untouched, declared length or chunked", async () => {
    const text = JSON.stringify({ rating: 5, note: "é".repeat(1000) });
    const posted = (await (
      await fetch(`${t.url}/echo/x`, { method: "POST", headers: { "content-type": "application/json" }, body: text })
    ).json()) as Echo;
    expect(posted.body).toBe(text);
    expect(posted.headers["content-type"]).toBe("application/json");

    const big = "z".repeat(200 * 1024);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 8192) controller.enqueue(new TextEncoder().encode(big.slice(i, i + 8192)));
        controller.close();
      },
    });
    const put = await fetch(`${t.url}/echo/x`, {
      method: "PUT",
      body: chunked,
      duplex: "half",
      headers: { "content-type": "text/plain" },
    } as RequestInit);
    const echo = (await put.json()) as Echo;
    expect(echo.body.length).toBe(big.length);
    expect(echo.headers["transfer-encoding"]).toBe("chunked");
  });

  it("refuses a body over the gateway's limit: by its declared length, or as a chunked body streams", async () => {
    const declared = await fetch(`${t.url}/echo/x`, { method: "POST", body: "x".repeat(300 * 1024) });
    await expectError(declared, 413, "FLOTILLA_PAYLOAD_TOO_LARGE");
    const before = upstream.hits.get("/echo/too-big") ?? 0;
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(new Uint8Array(16 * 1024));
        controller.close();
      },
    });
    const res = await fetch(`${t.url}/echo/too-big`, { method: "POST", body: chunked, duplex: "half" } as RequestInit);
    await expectError(res, 413, "FLOTILLA_PAYLOAD_TOO_LARGE");
    // The upstream may have started reading; it never got a whole body to act on.
    expect(upstream.hits.get("/echo/too-big") ?? 0).toBeLessThanOrEqual(before + 1);
  });

  it("streams a large answer back whole", async () => {
    const res = await fetch(`${t.url}/stream?chunks=64&size=16384`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(64 * 16384);
    expect(body[16384 * 3]).toBe(97 + 3);
  });

  it("answers HEAD with the upstream's head and no body", async () => {
    const res = await fetch(`${t.url}/echo/head`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-end-to-end")).toBe("kept");
    expect(await res.text()).toBe("");
  });

  it("strips hop-by-hop and internal headers both ways, and keeps end-to-end ones", async () => {
    const { status, headers, body } = await rawGet(`${t.url}/echo/hops`, {
      connection: "keep-alive, x-client-hop",
      "x-client-hop": "per-connection",
      "keep-alive": "timeout=9",
      te: "trailers",
      "proxy-authorization": "Basic c2VjcmV0",
      "flotilla-caller": "forged",
      "x-end-to-end": "please forward",
      authorization: "Bearer end-to-end",
    });
    expect(status).toBe(200);
    const seen = (JSON.parse(body) as Echo).headers;
    for (const name of ["x-client-hop", "keep-alive", "te", "proxy-authorization", "flotilla-caller"]) {
      expect(seen[name], name).toBeUndefined();
    }
    expect(seen["x-end-to-end"]).toBe("please forward");
    expect(seen.authorization).toBe("Bearer end-to-end");
    expect(seen.host).toBe(new URL(upstream.url).host);
    for (const name of ["x-hop-secret", "proxy-authenticate"]) {
      expect(headers[name], name).toBeUndefined();
    }
    // The gateway's own connection's, not the upstream's.
    expect(headers["keep-alive"]).not.toBe("timeout=5");
    expect(headers["x-end-to-end"]).toBe("kept");
    // The gateway's own trace id, not the one the upstream made up.
    expect(headers["x-trace-id"]).toMatch(/^[0-9a-f]{32}$/);
  });

  it("states the hop in Forwarded and X-Forwarded-*, replacing what the client claimed", async () => {
    const gatewayHost = new URL(t.url).host;
    const res = await fetch(`${t.url}/echo/fwd`, {
      headers: { forwarded: "for=6.6.6.6", "x-forwarded-for": "6.6.6.6", "x-real-ip": "6.6.6.6" },
    });
    const seen = ((await res.json()) as Echo).headers;
    expect(seen.forwarded).toBe(`for=127.0.0.1;proto=http;host="${gatewayHost}"`);
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-host"]).toBe(gatewayHost);
    expect(seen["x-real-ip"]).toBeUndefined();
  });

  it("propagates the trace: the upstream's parent is the gateway's CLIENT span for that attempt", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const res = await fetch(`${t.url}/echo/trace`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    const seen = ((await res.json()) as Echo).headers;
    const [, sentTrace, parentSpan] = seen.traceparent?.split("-") ?? [];
    expect(sentTrace).toBe(traceId);
    const client = t.spans.find((s) => s.spanId === parentSpan);
    expect(client?.kind).toBe(SpanKind.CLIENT);
    expect(client?.attributes).toMatchObject({
      "http.request.method": "GET",
      "server.address": "127.0.0.1",
      "url.full": `${upstream.url}/echo/trace`,
      "http.response.status_code": 200,
    });
    const server = t.spans.find((s) => s.spanId === client?.parentSpanId);
    expect(server?.kind).toBe(SpanKind.SERVER);
    expect(server?.traceId).toBe(traceId);
  });

  it("rewrites the path with the route's parameters, encoded", async () => {
    const res = await fetch(`${t.url}/api/v1/things/a%20b?x=1`);
    expect(((await res.json()) as Echo).url).toBe("/echo/things/a%20b?x=1");
  });

  it("runs the gateway's and the route's policies first: 401 without a caller, the caller's id upstream with one", async () => {
    const anonymous = await fetch(`${t.url}/api/v1/things/p1/reviews`, { method: "POST", body: "{}" });
    await expectError(anonymous, 401, "UNAUTHENTICATED");
    expect(upstream.hits.get("/echo/reviews/p1")).toBeUndefined();

    const res = await fetch(`${t.url}/api/v1/things/p1/reviews`, {
      method: "POST",
      headers: { "x-test-user": "user-7", "x-user-id": "admin-forged", "content-type": "application/json" },
      body: '{"rating":4}',
    });
    const echo = (await res.json()) as Echo;
    expect(echo.headers["x-user-id"]).toBe("user-7");
    expect(echo.body).toBe('{"rating":4}');

    const forged = await fetch(`${t.url}/api/v1/things/p1/reviews`, {
      method: "POST",
      headers: { "x-user-id": "admin-forged" },
      body: "{}",
    });
    await expectError(forged, 401, "UNAUTHENTICATED");
  });

  it("answers a method the route does not list with 404, as any unrouted request", async () => {
    await expectError(await fetch(`${t.url}/stream`, { method: "DELETE" }), 404, "NOT_FOUND");
  });
});

describe("proxy configuration", () => {
  it("refuses a route naming an unknown upstream, and bad upstream options, with FLOTILLA_CONFIG", async () => {
    const routes = [proxy({ path: "/x", methods: ["GET"], upstream: "nowhere" })];
    await expect(startProxyGateway({}, routes)).rejects.toMatchObject({ code: "FLOTILLA_CONFIG" });
    for (const bad of [
      { targets: [] },
      { targets: ["ftp://127.0.0.1:21"] },
      { targets: ["http://127.0.0.1:1/base"] },
      { targets: ["http://127.0.0.1:1"], retries: -1 },
      { targets: ["http://127.0.0.1:1"], healthCheck: { path: "health" } },
    ]) {
      await expect(startProxyGateway({ legacy: bad }, [])).rejects.toMatchObject({ code: "FLOTILLA_CONFIG" });
    }
    expect(() => proxy({ path: "/x", methods: [], upstream: "legacy" })).toThrow(FlotillaError);
    expect(() => proxy({ path: "/x", methods: ["GET"], upstream: "legacy", callerHeader: "X User" })).toThrow(
      FlotillaError,
    );
  });
});

/** A GET over node:http, which (unlike fetch) lets the test send Connection, Keep-Alive and TE. */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}
