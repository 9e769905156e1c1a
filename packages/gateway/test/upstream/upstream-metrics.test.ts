/** @module Upstream metrics as Prometheus text: attempts by target and outcome, and each target's health and breaker. */
import { httpMetrics, upstreamMetrics } from "@flotilla/telemetry";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxy } from "../../src/index.js";
import { startGateway, type TestGateway } from "../support/harness.js";
import { until } from "./support/proxy-gateway.js";
import { startTestUpstream, type TestUpstream } from "./support/test-upstream.js";

describe("upstream metrics", () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let t: TestGateway;
  beforeAll(async () => {
    a = await startTestUpstream("a");
    b = await startTestUpstream("b");
    const registry = new Registry();
    t = await startGateway({
      routes: [],
      upstreams: {
        legacy: {
          targets: [a.url, b.url],
          healthCheck: { path: "/health", intervalMs: 50, unhealthyAfter: 1 },
          circuitBreaker: { threshold: 1, halfOpenAfterMs: 60_000 },
          retries: 0,
        },
      },
      proxies: [proxy({ path: "/*", methods: ["GET"], upstream: "legacy" })],
      metrics: httpMetrics(registry),
      metricsPolicies: [],
      upstreamMetrics: upstreamMetrics(registry),
    });
  });
  afterAll(async () => {
    await t.stop();
    await a.close();
    await b.close();
  });

  it("counts attempts by target and outcome, and shows health, breaker state and load per target", async () => {
    // The first request goes to a (a 500 opens its breaker at threshold 1), the second to b.
    expect((await fetch(`${t.url}/status/500`)).status).toBe(500);
    expect((await fetch(`${t.url}/echo/x`)).status).toBe(200);
    b.healthy = false;
    const scrape = async () => (await fetch(`${t.url}/metrics`)).text();
    await until(
      async () => (await scrape()).includes(`flotilla_upstream_target_healthy{upstream="legacy",target="${b.url}"} 0`),
      "b unhealthy",
    );
    const text = await scrape();
    expect(text).toContain(`flotilla_upstream_requests_total{upstream="legacy",target="${a.url}",outcome="500"} 1`);
    expect(text).toContain(`flotilla_upstream_requests_total{upstream="legacy",target="${b.url}",outcome="200"} 1`);
    expect(text).toContain(`flotilla_upstream_circuit_state{upstream="legacy",target="${a.url}"} 2`);
    expect(text).toContain(`flotilla_upstream_circuit_state{upstream="legacy",target="${b.url}"} 0`);
    expect(text).toContain(`flotilla_upstream_target_healthy{upstream="legacy",target="${a.url}"} 1`);
    expect(text).toContain(`flotilla_upstream_in_flight{upstream="legacy",target="${a.url}"} 0`);
    expect(text).toMatch(/flotilla_upstream_request_duration_seconds_count\{upstream="legacy"\} 2/);
  });
});
