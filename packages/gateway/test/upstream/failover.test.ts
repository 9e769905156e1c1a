/** @module Upstream failures through real HTTP: dead targets, health checks after SIGKILL, retries, timeouts, breakers, hostile answers. */
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { proxy, type UpstreamOptions } from "../../src/index.js";
import { expectError } from "../support/harness.js";
import { killHard, spawnUpstream } from "./support/children.js";
import { type ProxyGateway, startProxyGateway, until } from "./support/proxy-gateway.js";
import { startTestUpstream, type TestUpstream } from "./support/test-upstream.js";

const ALL = proxy({ path: "/*", methods: ["GET", "POST", "PUT"], upstream: "legacy" });

/** A port nothing listens on: bound, then released. */
async function deadTarget(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe("upstream failures", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function gateway(options: UpstreamOptions): Promise<ProxyGateway> {
    const t = await startProxyGateway({ legacy: options }, [ALL]);
    cleanup.push(() => t.stop());
    return t;
  }
  async function upstream(name: string): Promise<TestUpstream> {
    const u = await startTestUpstream(name);
    cleanup.push(() => u.close());
    return u;
  }

  it("retries a GET on another target when one refuses, but never a POST", async () => {
    const dead = await deadTarget();
    const live = await upstream("live");
    // No breaker: the test watches retries alone; the dead target is first in line for the first request.
    const t = await gateway({ targets: [dead, live.url], circuitBreaker: false });

    const post = await fetch(`${t.url}/echo/order`, { method: "POST", body: "{}" });
    const error = await expectError(post, 502, "FLOTILLA_UPSTREAM_UNAVAILABLE");
    expect(error.details).toMatchObject({ upstream: "legacy", target: dead, reason: "ECONNREFUSED" });
    expect(live.hits.get("/echo/order")).toBeUndefined();

    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${t.url}/echo/read`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { instance: string }).instance).toBe("live");
    }
    expect(t.attempts.filter((a) => a === `legacy ${dead} error`).length).toBeGreaterThanOrEqual(2);
    const retried = t.spans.filter((s) => s.attributes["http.request.resend_count"] === 1);
    expect(retried.length).toBeGreaterThan(0);
  });

  it("takes a SIGKILLed target out by its health checks and sends everything to the other", async () => {
    const a = await spawnUpstream("a");
    const b = await spawnUpstream("b");
    cleanup.push(
      () => killHard(a),
      () => killHard(b),
    );
    const t = await gateway({
      targets: [a.url, b.url],
      healthCheck: { path: "/health", intervalMs: 50, unhealthyAfter: 2, healthyAfter: 1 },
    });
    const served = new Set<string>();
    for (let i = 0; i < 6; i++)
      served.add(((await (await fetch(`${t.url}/echo/x`)).json()) as { instance: string }).instance);
    expect(served).toEqual(new Set(["a", "b"]));

    await killHard(a);
    await until(() => t.targets().find((s) => s.target === a.url)?.healthy === false, "a marked unhealthy");
    const after = t.attempts.length;
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${t.url}/echo/x`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { instance: string }).instance).toBe("b");
    }
    expect(t.attempts.slice(after).every((a) => a.includes(b.url))).toBe(true);
    expect(t.targets().find((s) => s.target === b.url)?.healthy).toBe(true);
  });

  it("brings a target back once its health checks pass again", async () => {
    const a = await upstream("a");
    const b = await upstream("b");
    const t = await gateway({
      targets: [a.url, b.url],
      healthCheck: { path: "/health", intervalMs: 50, unhealthyAfter: 1, healthyAfter: 2 },
    });
    a.healthy = false;
    await until(() => t.targets()[0]?.healthy === false, "a out");
    a.healthy = true;
    await until(() => t.targets()[0]?.healthy === true, "a back");
    const served = new Set<string>();
    for (let i = 0; i < 6; i++)
      served.add(((await (await fetch(`${t.url}/echo/x`)).json()) as { instance: string }).instance);
    expect(served).toEqual(new Set(["a", "b"]));
  });

  it("answers 504 when the upstream's head is late, without retrying it elsewhere", async () => {
    const a = await upstream("a");
    const b = await upstream("b");
    const t = await gateway({ targets: [a.url, b.url], timeoutMs: 200, circuitBreaker: false });
    const res = await fetch(`${t.url}/slow-head?ms=3000`);
    const error = await expectError(res, 504, "FLOTILLA_UPSTREAM_TIMEOUT");
    expect(error.details).toMatchObject({ reason: "UND_ERR_HEADERS_TIMEOUT" });
    expect((a.hits.get("/slow-head") ?? 0) + (b.hits.get("/slow-head") ?? 0)).toBe(1);
    expect(t.attempts.some((x) => x.endsWith(" timeout"))).toBe(true);
  });

  it("opens a target's circuit after consecutive 5xx answers, then lets one probe through and closes it", async () => {
    const a = await upstream("a");
    const t = await gateway({ targets: [a.url], retries: 0, circuitBreaker: { threshold: 3, halfOpenAfterMs: 300 } });
    for (let i = 0; i < 3; i++) expect((await fetch(`${t.url}/status/500`)).status).toBe(500);
    const refused = await fetch(`${t.url}/status/500`);
    const error = await expectError(refused, 503, "FLOTILLA_UPSTREAM_CIRCUIT_OPEN");
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(error.details).toMatchObject({ targets: [{ target: a.url, breaker: "open" }] });
    expect(a.hits.get("/status/500")).toBe(3);

    // Once halfOpenAfterMs has passed, the next request is the probe: its success closes the circuit.
    await until(async () => (await fetch(`${t.url}/echo/probe`)).status === 200, "the probe got through");
    expect(t.targets()[0]?.breaker).toBe("closed");
    expect((await fetch(`${t.url}/echo/after`)).status).toBe(200);
  });

  it("counts refused connections against the breaker too, and answers 503 while every target is out", async () => {
    const dead = await deadTarget();
    const t = await gateway({ targets: [dead], retries: 0, circuitBreaker: { threshold: 2, halfOpenAfterMs: 60_000 } });
    await expectError(await fetch(`${t.url}/x`), 502, "FLOTILLA_UPSTREAM_UNAVAILABLE");
    await expectError(await fetch(`${t.url}/x`), 502, "FLOTILLA_UPSTREAM_UNAVAILABLE");
    const res = await fetch(`${t.url}/x`);
    await expectError(res, 503, "FLOTILLA_UPSTREAM_CIRCUIT_OPEN");
    expect(res.headers.get("retry-after")).toBe("60");
  });

  it("answers 502 to an answer head larger than the limit, and stays up", async () => {
    const a = await upstream("a");
    const t = await gateway({ targets: [a.url], maxHeaderBytes: 8 * 1024 });
    const error = await expectError(await fetch(`${t.url}/huge-head`), 502, "FLOTILLA_UPSTREAM_UNAVAILABLE");
    expect(error.details).toMatchObject({ reason: "UND_ERR_HEADERS_OVERFLOW" });
    expect((await fetch(`${t.url}/echo/fine`)).status).toBe(200);
  });

  it("cuts off an answer whose body stalls, once its head is out, and never retries it", async () => {
    const a = await upstream("a");
    const b = await upstream("b");
    const t = await gateway({ targets: [a.url, b.url], bodyTimeoutMs: 200 });
    const res = await fetch(`${t.url}/slow-body`);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect((a.hits.get("/slow-body") ?? 0) + (b.hits.get("/slow-body") ?? 0)).toBe(1);
    const span = t.spans.find((s) => s.attributes["url.full"]?.toString().endsWith("/slow-body"));
    expect(span?.attributes["error.type"]).toBeDefined();
    expect((await fetch(`${t.url}/echo/fine`)).status).toBe(200);
  });

  it("frees the target's slot when the client leaves before the answer", async () => {
    const a = await upstream("a");
    const t = await gateway({ targets: [a.url] });
    const abort = new AbortController();
    const pending = fetch(`${t.url}/slow-head?ms=60000`, { signal: abort.signal });
    await until(() => (a.hits.get("/slow-head") ?? 0) === 1, "the upstream got the request");
    abort.abort();
    await expect(pending).rejects.toThrow();
    await until(() => t.targets()[0]?.inFlight === 0, "in-flight count back to 0");
    expect(t.targets()[0]?.breaker).toBe("closed");
  });
});
