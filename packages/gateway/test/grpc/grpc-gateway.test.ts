/**
 * @module The gateway over gRPC with a real @grpc/grpc-js client: the same actions, policies and error
 * codes as over HTTP, within the same limits, with the call's deadline and trace context passed on.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEdgeKeysFile, createTokenVerifier, edgeSigner, staticKeys } from "@flotilla/auth";
import { type Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, ISSUER, signToken, type TestKey, testKey } from "../../../auth/test/support/keys.js";
import {
  authenticate,
  authenticated,
  flotillaErrorOfGrpc,
  GrpcMetadataKeys,
  httpStatusOfGrpcCode,
  memoryRateLimitStore,
  rateLimit,
  requireRole,
  route,
} from "../../src/index.js";
import { errorOf, startGateway, type TestGateway } from "../support/harness.js";
import { catalog, probe, testRoutes } from "../support/services.js";
import { type GrpcTestClient, grpcClient } from "./grpc-client.js";

const PKG = "flotilla.test.v1";
const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

/** The call's rejection, asserted to be a gRPC error. */
async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e as ServiceError,
  );
  expect(err, "the call should have failed").toBeDefined();
  return err!;
}

const code = (md: Metadata) => md.get(GrpcMetadataKeys.code)[0];

describe("gRPC at the gateway", () => {
  let t: TestGateway;
  let client: GrpcTestClient;
  let key: TestKey;
  let dir: string;
  const spans = new InMemorySpanExporter();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-gw-grpc-"));
    const edge = edgeSigner(await createEdgeKeysFile(join(dir, "edge.jwks.json")));
    key = await testKey("k1");
    const tokens = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: staticKeys({ keys: [key.jwk] }) }],
    });
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer("test");
    t = await startGateway({
      policies: [authenticate({ tokens, edge })],
      routes: [
        ...testRoutes,
        route({ method: "GET", path: "/me", action: probe.strict, policies: [authenticated()] }),
        route({ method: "GET", path: "/admin", action: probe.admin, policies: [requireRole("admin")] }),
      ],
      bodyLimitBytes: 4096,
      tracer,
      grpc: { package: PKG },
    });
    client = grpcClient(t.gateway.grpc!.address!, t.gateway.grpc!.proto, PKG);
  });
  afterAll(async () => {
    client.close();
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers a public call with what HTTP answers, and the trace id in the trailers", async () => {
    const { response, trailers } = await client.call("CatalogService/GetProduct", { id: "p1" });
    const http = await (await fetch(`${t.url}/api/v1/products/p1`)).json();
    expect(response).toEqual(http);
    expect(trailers.get(GrpcMetadataKeys.traceId)[0]).toMatch(/^[0-9a-f]{32}$/);
  });

  it("fills what a GET route's query would: defaults and optional fields", async () => {
    const { response } = await client.call("CatalogService/ListProducts", { q: "Tea" });
    expect(response).toEqual({ items: [{ id: "p1", name: "Teapot", price: 12.5 }] });
    const none = await client.call("CatalogService/ListProducts", { q: "nothing-like-it" });
    expect(none.response).toEqual({ items: [] });
  });

  it("maps a domain error to its status, with the same Flotilla code and HTTP status as the HTTP route", async () => {
    const err = await failure(client.call("CatalogService/GetProduct", { id: "nope" }));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(code(err.metadata)).toBe("PRODUCT_NOT_FOUND");
    expect(err.details).toBe("no product nope");
    const http = await fetch(`${t.url}/api/v1/products/nope`);
    const back = flotillaErrorOfGrpc(err);
    expect(back.code).toBe((await errorOf(http)).code);
    expect(back.details).toEqual({ id: "nope" });
    expect(httpStatusOfGrpcCode(err.code)).toBe(http.status);
  });

  it("refuses invalid input with INVALID_ARGUMENT and the failing fields, before any service runs", async () => {
    const err = await failure(client.call("CatalogService/CreateProduct", { name: "Kettle", price: -1 }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(code(err.metadata)).toBe("INVALID_ARGUMENT");
    const issues = (flotillaErrorOfGrpc(err).details as { issues: { path: unknown }[] }).issues;
    expect(issues.map((i) => i.path)).toEqual(["price"]);
    // proto3 sends an empty string as nothing: the contract's min(1) still refuses it.
    const empty = await failure(client.call("CatalogService/GetProduct", {}));
    expect(empty.code).toBe(status.INVALID_ARGUMENT);
  });

  it("refuses bytes that are not the request message with INVALID_ARGUMENT", async () => {
    const err = await failure(client.raw("CatalogService/GetProduct", Buffer.from([0x0a, 0xff, 0xff, 0xff])));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(code(err.metadata)).toBe("FLOTILLA_BAD_REQUEST");
  });

  it("signs a caller in from the authorization metadata; refuses one without with HTTP's code", async () => {
    const token = await signToken(key, { sub: "grpc-user" });
    const ok = await client.call("ProbeService/Strict", { n: 3 }, { authorization: `Bearer ${token}` });
    expect(ok.response).toEqual({ n: 3, tag: "none" });
    const anonymous = await failure(client.call("ProbeService/Strict", { n: 3 }));
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
    const http = await errorOf(await fetch(`${t.url}/me?n=3`));
    expect(code(anonymous.metadata)).toBe(http.code);
    const forged = await failure(client.call("ProbeService/Strict", { n: 3 }, { authorization: "Bearer not.a.token" }));
    expect(forged.code).toBe(status.UNAUTHENTICATED);
  });

  it("refuses a signed-in caller without the route's role with PERMISSION_DENIED, as HTTP does with 403", async () => {
    const token = await signToken(key, { sub: "customer-1", roles: ["customer"] });
    const err = await failure(client.call("ProbeService/Admin", {}, { authorization: `Bearer ${token}` }));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    const http = await fetch(`${t.url}/admin`, { headers: { authorization: `Bearer ${token}` } });
    expect(http.status).toBe(403);
    expect(code(err.metadata)).toBe((await errorOf(http)).code);
    const admin = await signToken(key, { sub: "admin-1", roles: ["admin"] });
    const ok = await client.call("ProbeService/Admin", {}, { authorization: `Bearer ${admin}` });
    expect(ok.response).toEqual({ admin: true });
  });

  it("hides a server fault's message: INTERNAL, code INTERNAL, the trace id to look it up", async () => {
    const err = await failure(client.call("ProbeService/Crash", {}));
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toBe("internal error");
    expect(code(err.metadata)).toBe("INTERNAL");
    expect(JSON.stringify(err)).not.toContain("hunter2");
  });

  it("refuses a message larger than the gateway's body limit with RESOURCE_EXHAUSTED", async () => {
    const err = await failure(client.call("CatalogService/CreateProduct", { name: "x".repeat(5000), price: 1 }));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it("gives the action what remains of the client's deadline, and ends a call past it with DEADLINE_EXCEEDED", async () => {
    const deadline = Date.now() + 5_000;
    const { response } = await client.call("ProbeService/Inspect", {}, {}, { deadline });
    // probe.inspect answers a record: a map of JSON values in the response's `value`.
    const remaining = (response.value as Record<string, { numberValue: number }>).remainingMs!;
    expect(remaining.numberValue).toBeGreaterThan(0);
    expect(remaining.numberValue).toBeLessThanOrEqual(5_000);
    const slow = await failure(client.call("ProbeService/Slow", { ms: 2_000 }, {}, { deadline: Date.now() + 300 }));
    expect(slow.code).toBe(status.DEADLINE_EXCEEDED);
  });

  it("continues the caller's trace and records a SERVER span with the rpc attributes", async () => {
    const traceparent = `00-${TRACE_ID}-b7ad6b7169203331-01`;
    const { trailers } = await client.call("CatalogService/GetProduct", { id: "p1" }, { traceparent });
    expect(trailers.get(GrpcMetadataKeys.traceId)[0]).toBe(TRACE_ID);
    await failure(client.call("CatalogService/GetProduct", { id: "nope" }, { traceparent }));
    const mine = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === TRACE_ID && s.kind === 1);
    expect(mine.map((s) => s.name)).toEqual([`${PKG}.CatalogService/GetProduct`, `${PKG}.CatalogService/GetProduct`]);
    expect(mine[0]!.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": `${PKG}.CatalogService`,
      "rpc.method": "GetProduct",
      "rpc.grpc.status_code": status.OK,
    });
    expect(mine[1]!.attributes).toMatchObject({
      "rpc.grpc.status_code": status.NOT_FOUND,
      "error.type": "PRODUCT_NOT_FOUND",
    });
  });

  it("carries a non-object answer in `value`, and an empty answer as an empty message", async () => {
    expect((await client.call("ProbeService/Text", {})).response).toEqual({ value: "just a string" });
    expect((await client.call("ProbeService/Nothing", {})).response).toEqual({});
  });

  it("serves what the routed contracts give, one service per Flotilla service", () => {
    const proto = t.gateway.grpc!.proto;
    expect(proto).toContain("service CatalogService {");
    expect(proto).toContain("rpc GetProduct(GetProductRequest) returns (GetProductResponse);");
    expect(proto).toContain("service ProbeService {");
    expect(catalog.getProduct.fqn).toBe("catalog.getProduct");
  });
});

describe("gRPC under the gateway's rate limit", () => {
  let t: TestGateway;
  let client: GrpcTestClient;
  beforeAll(async () => {
    const limiter = rateLimit({ store: memoryRateLimitStore(), tiers: { anonymous: { limit: 2, windowSec: 60 } } });
    t = await startGateway({ policies: [limiter], grpc: { package: PKG } });
    client = grpcClient(t.gateway.grpc!.address!, t.gateway.grpc!.proto, PKG);
  });
  afterAll(async () => {
    client.close();
    await t.stop();
  });

  it("answers past the limit with RESOURCE_EXHAUSTED, the limit's code, and its headers as trailers", async () => {
    const first = await client.call("CatalogService/GetProduct", { id: "p1" });
    expect(first.trailers.get("ratelimit")[0]).toMatch(/^"anonymous";r=1;t=\d+$/);
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map(() => client.call("CatalogService/GetProduct", { id: "p1" })),
    );
    const refused = outcomes
      .filter((o): o is PromiseRejectedResult => o.status === "rejected")
      .map((o) => o.reason as ServiceError);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]!.code).toBe(status.RESOURCE_EXHAUSTED);
    const http = await fetch(`${t.url}/api/v1/products/p1`);
    expect(http.status).toBe(429);
    expect(code(refused[0]!.metadata)).toBe((await errorOf(http)).code);
    expect(refused[0]!.metadata.get("retry-after")[0]).toMatch(/^\d+$/);
  });
});
