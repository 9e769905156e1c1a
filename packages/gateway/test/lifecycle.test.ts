/** @module Graceful shutdown and the access log. */
import { once } from "node:events";
import { connect } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { route } from "../src/index.js";
import { postJson, startGateway } from "./support/harness.js";
import { probe, started, testRoutes } from "./support/services.js";

describe("shutdown", () => {
  it("lets in-flight requests finish and answers new ones with 503 FLOTILLA_SHUTTING_DOWN", async () => {
    const t = await startGateway({
      routes: [route({ method: "GET", path: "/slow-ok", action: probe.slow, timeoutMs: 5000 }), ...testRoutes],
    });
    const running = once(started, "slow");
    const inFlight = fetch(`${t.url}/slow-ok?ms=150`);
    await running;
    const closed = t.gateway.close();
    const late = await t.gateway.app.inject({ method: "GET", url: "/api/v1/products/p1" });
    expect(late.statusCode).toBe(503);
    expect(late.headers["x-trace-id"]).toMatch(/^[0-9a-f]{32}$/);
    expect(late.json().error.code).toBe("FLOTILLA_SHUTTING_DOWN");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.headers.get("connection")).toBe("close");
    expect(await res.json()).toEqual({ slept: 150 });
    await closed;
    await t.host.stop();
  });

  it("drains first when asked: serves on, closing each connection, with /readyz at 503", async () => {
    const t = await startGateway({ drainMs: 2_000 });
    const closed = t.gateway.close();
    const during = await fetch(`${t.url}/api/v1/products/p1`);
    expect(during.status).toBe(200);
    expect(during.headers.get("connection")).toBe("close");
    await during.text();
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "stopping" });
    await closed;
    await t.host.stop();
  });

  it("does not wait for connections that are idle or never sent a request", async () => {
    const t = await startGateway();
    const { port } = new URL(t.url);
    const silent = connect(Number(port), "127.0.0.1");
    await once(silent, "connect");
    const silentClosed = once(silent, "close");
    await (await fetch(`${t.url}/healthz`)).text(); // leaves a keep-alive connection in fetch's pool
    await t.gateway.close();
    await silentClosed;
    await t.host.stop();
  });
});

describe("access log", () => {
  it("logs a request the client abandoned as 499", async () => {
    const t = await startGateway({
      routes: [route({ method: "GET", path: "/slow-ok", action: probe.slow, timeoutMs: 5000 }), ...testRoutes],
    });
    try {
      const abort = new AbortController();
      const running = once(started, "slow");
      const done = once(started, "slow-done");
      // The action outlasts the client by far, so the abort is seen first even on a loaded machine.
      const request = fetch(`${t.url}/slow-ok?ms=1500`, { signal: abort.signal }).catch(() => "aborted");
      await running;
      abort.abort();
      expect(await request).toBe("aborted");
      await vi.waitFor(() => expect(t.logs.filter((l) => l.msg === "request")).toHaveLength(1));
      // The action finishes; its late answer must not log the request twice. A later request's line
      // comes after the late answer was dealt with (that takes microtasks, a request takes I/O turns).
      await done;
      await (await fetch(`${t.url}/healthz`)).text();
      await vi.waitFor(() => expect(t.logs.filter((l) => l.msg === "request")).toHaveLength(2));
      const lines = t.logs.filter((l) => l.msg === "request");
      expect(lines.map((l) => l.route)).toEqual(["/slow-ok", "/healthz"]);
      expect(lines[0]).toMatchObject({ route: "/slow-ok", status: 499 });
    } finally {
      await t.stop();
    }
  });

  it("writes one line per request with method, path template, status, duration and ids", async () => {
    const t = await startGateway();
    try {
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const requests: [string, RequestInit?][] = [
        [`/api/v1/products/p1?secret=token`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } }],
        [`/api/v1/products/nope`, { headers: { "x-correlation-id": "corr-1" } }],
        [`/no/such/route?access_token=secret`],
        [`/api/v1/products/%ZZ`],
        [`/healthz`],
      ];
      for (const [path, init] of requests) await fetch(`${t.url}${path}`, init);
      await postJson(`${t.url}/api/v1/products`, "{");
      // A line is written once the response finished, which may be just after the client has it.
      await vi.waitFor(() => expect(t.logs.filter((l) => l.msg === "request")).toHaveLength(requests.length + 1));
      const lines = t.logs.filter((l) => l.msg === "request");
      for (const line of lines) {
        expect(line).toMatchObject({ service: "gateway", instance: `gateway-${t.host.id}`, level: 30 });
        expect(typeof line.method).toBe("string");
        expect(typeof line.status).toBe("number");
        expect(typeof line.durationMs).toBe("number");
        expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
        expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
        expect(typeof line.correlation_id).toBe("string");
      }
      expect(lines[0]).toMatchObject({ method: "GET", route: "/api/v1/products/:id", status: 200, trace_id: traceId });
      expect(lines[1]).toMatchObject({ route: "/api/v1/products/:id", status: 404, correlation_id: "corr-1" });
      expect(lines[2]).toMatchObject({ route: null, path: "/no/such/route", status: 404 });
      expect(lines[3]).toMatchObject({ status: 400 });
      expect(lines[4]).toMatchObject({ route: "/healthz", status: 200 });
      expect(lines[5]).toMatchObject({ method: "POST", route: "/api/v1/products", status: 400 });
      expect(JSON.stringify(lines)).not.toContain("secret");
      // fastify's own request logging is off: every line the gateway wrote is ours.
      expect(t.logs.filter((l) => l.reqId !== undefined || l.req !== undefined)).toEqual([]);
    } finally {
      await t.stop();
    }
  });
});
