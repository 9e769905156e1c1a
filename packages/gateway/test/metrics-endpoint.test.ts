/** @module The gateway's metrics: RED series per route template, and `GET /metrics` for admins only. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEdgeKeysFile, createTokenVerifier, edgeSigner, staticKeys } from "@flotilla/auth";
import { httpMetrics, metrics } from "@flotilla/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, ISSUER, signToken, type TestKey, testKey } from "../../auth/test/support/keys.js";
import { authenticate } from "../src/index.js";
import { expectError, startGateway, type TestGateway } from "./support/harness.js";

describe("gateway metrics", () => {
  let t: TestGateway;
  let dir: string;
  let key: TestKey;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-gw-metrics-"));
    const edgeKeys = await createEdgeKeysFile(join(dir, "edge.jwks.json"));
    key = await testKey("k1");
    const tokens = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: staticKeys({ keys: [key.jwk] }) }],
    });
    t = await startGateway({
      policies: [authenticate({ tokens, edge: edgeSigner(edgeKeys) })],
      metrics: httpMetrics(metrics().registry),
    });
  });
  afterAll(async () => {
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${t.url}${path}`, { headers });
  const bearer = async (roles: string[]) => ({ authorization: `Bearer ${await signToken(key, { roles })}` });

  it("answers /metrics to admins only, with the gateway's error body otherwise", async () => {
    const anonymous = await get("/metrics");
    await expectError(anonymous, 401, "UNAUTHENTICATED");
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
    await expectError(await get("/metrics", await bearer(["customer"])), 403, "PERMISSION_DENIED");
    const admin = await get("/metrics", await bearer(["admin"]));
    expect(admin.status).toBe(200);
    expect(admin.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(admin.headers.get("cache-control")).toBe("no-store");
    expect(await admin.text()).toContain("# TYPE flotilla_http_requests_total counter");
  });

  it("records requests by route template and exact status, every unmatched path in one series", async () => {
    for (let i = 0; i < 3; i++) expect((await get("/api/v1/products/p1")).status).toBe(200);
    await expectError(await get("/api/v1/products/missing"), 404, "PRODUCT_NOT_FOUND");
    for (const path of ["/nowhere", "/x/../etc/passwd%00", `/${"a".repeat(300)}`]) await get(path);
    const text = await (await get("/metrics", await bearer(["admin"]))).text();
    const product = 'method="GET",route="/api/v1/products/:id"';
    expect(text).toContain(`flotilla_http_requests_total{${product},code="200"} 3`);
    expect(text).toContain(`flotilla_http_requests_total{${product},code="404"} 1`);
    expect(text).toContain(`flotilla_http_request_duration_seconds_count{${product},code="200"} 3`);
    expect(text).toMatch(/flotilla_http_requests_total\{method="GET",route="unmatched",code="(400|404)"\} \d/);
    expect(text).not.toContain("nowhere");
    expect(text).not.toContain("passwd");
    // This scrape is being answered: it is the one request in flight.
    expect(text).toContain("flotilla_http_requests_in_flight 1");
    // The refused scrapes of the first test were recorded under the endpoint's own route.
    expect(text).toContain('flotilla_http_requests_total{method="GET",route="/metrics",code="401"} 1');
  });
});
