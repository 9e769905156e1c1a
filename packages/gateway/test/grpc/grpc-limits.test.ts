/** @module gRPC within the gateway's other bounds: the concurrency ceiling HTTP shares, and TLS with the gateway's key pair. */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcMetadataKeys, route } from "../../src/index.js";
import { makeCa, makeServerCert, type TestCa } from "../support/certs.js";
import { startGateway, type TestGateway } from "../support/harness.js";
import { probe, started, testRoutes } from "../support/services.js";
import { type GrpcTestClient, grpcClient } from "./grpc-client.js";

const PKG = "flotilla.test.v1";

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: ServiceError) => e,
  );

describe("gRPC under the gateway's concurrency ceiling", () => {
  let t: TestGateway;
  let client: GrpcTestClient;
  beforeAll(async () => {
    // Routed first without a timeout, so the slow call holds its slot until the client's deadline.
    const routes = [route({ method: "GET", path: "/slow-held", action: probe.slow }), ...testRoutes];
    t = await startGateway({ routes, maxConcurrentRequests: 1, grpc: { package: PKG } });
    client = grpcClient(t.gateway.grpc!.address!, t.gateway.grpc!.proto, PKG);
  });
  afterAll(async () => {
    client.close();
    await t.stop();
  });

  it("sheds a call past the ceiling with UNAVAILABLE and retry-after; HTTP and gRPC share the ceiling", async () => {
    const inFlight = once(started, "slow");
    const slow = failure(client.call("ProbeService/Slow", { ms: 10_000 }, {}, { deadline: Date.now() + 3_000 }));
    await inFlight;
    const shed = await failure(client.call("CatalogService/GetProduct", { id: "p1" }));
    expect(shed?.code).toBe(status.UNAVAILABLE);
    expect(shed?.metadata.get(GrpcMetadataKeys.code)[0]).toBe("FLOTILLA_GATEWAY_OVERLOADED");
    expect(shed?.metadata.get("retry-after")[0]).toBe("1");
    const http = await fetch(`${t.url}/api/v1/products/p1`);
    expect(http.status).toBe(503);
    // The client's deadline ends the slow call; its slot is free again.
    const done = once(started, "slow-done");
    expect((await slow)?.code).toBe(status.DEADLINE_EXCEEDED);
    // The action sleeps a little past the deadline the gateway gave up at: by then the slot is back.
    await done;
    const after = await client.call("CatalogService/GetProduct", { id: "p1" });
    expect(after.response.id).toBe("p1");
  });
});

describe("gRPC over the gateway's TLS", () => {
  let dir: string;
  let ca: TestCa;
  let t: TestGateway;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-grpc-tls-"));
    ca = makeCa(dir);
    const cert = makeServerCert(ca, "server");
    t = await startGateway({ tls: { certFile: cert.certFile, keyFile: cert.keyFile }, grpc: { package: PKG } });
  });
  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves TLS with the gateway's certificate, and nothing to a plaintext client", async () => {
    const { address, proto } = t.gateway.grpc!;
    const secure = grpcClient(address!, proto, PKG, credentials.createSsl(Buffer.from(ca.pem)));
    const plain = grpcClient(address!, proto, PKG);
    try {
      const { response } = await secure.call("CatalogService/GetProduct", { id: "p1" });
      expect(response.name).toBe("Teapot");
      const refused = await failure(
        plain.call("CatalogService/GetProduct", { id: "p1" }, {}, { deadline: Date.now() + 2_000 }),
      );
      expect(refused?.code).toBe(status.UNAVAILABLE);
    } finally {
      secure.close();
      plain.close();
    }
  });
});
