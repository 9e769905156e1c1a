/**
 * The Metrics view's sampler over real HTTP: this process's registry and two instances the registry lists
 * with an ops address (real servers answering prom-client's text; one answering garbage), summed per route.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { createLogger, type InstanceInfo, MemoryRegistry } from "@flotilla/core";
import { type HttpMetrics, httpMetrics, metrics } from "@flotilla/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetricsSampler, THIS_PROCESS } from "../../src/dashboard/metrics-sampler.js";

function served(body: () => Promise<string>): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    body().then((text) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(text));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

function instance(service: string, id: string, endpoint: string, pid = 4242): InstanceInfo {
  return {
    service,
    instance: id,
    version: "1.0.0",
    host: "elsewhere",
    pid,
    actions: [],
    events: [],
    startedAt: new Date().toISOString(),
    ready: true,
    load: { inFlight: 0 },
    endpoint,
  };
}

function answer(http: HttpMetrics, status: number, times: number): void {
  for (let i = 0; i < times; i++) {
    http.started();
    http.finished("GET", "/api/v1/orders", status, 0.01);
  }
}

describe("MetricsSampler", () => {
  const servers: Server[] = [];
  const registry = new MemoryRegistry();
  const local = httpMetrics(metrics().registry);
  const remote = httpMetrics(metrics().registry);
  let remoteUrl = "";
  let brokenUrl = "";
  let clock = 0;
  let sampler: MetricsSampler;

  beforeAll(async () => {
    const good = await served(() => remote.render());
    const broken = await served(async () => "<html>not metrics</html>");
    servers.push(good.server, broken.server);
    remoteUrl = good.url;
    brokenUrl = broken.url;
    // Two services of one remote process share its ops address: it is read once.
    await registry.register(instance("orders", "orders-1", remoteUrl));
    await registry.register(instance("billing", "billing-1", remoteUrl));
    await registry.register(instance("orders", "orders-2", brokenUrl));
    // This process's own registration: read through `local`, not again over HTTP.
    await registry.register({
      ...instance("gateway", "gw-1", "http://127.0.0.1:9"),
      host: hostname(),
      pid: process.pid,
    });
    sampler = new MetricsSampler({
      local,
      localServices: ["gateway"],
      services: ["billing", "gateway", "orders"],
      registry,
      sampleMs: 5_000,
      tracer: undefined,
      log: createLogger({ level: "silent" }),
      now: () => clock,
    });
  });
  afterAll(async () => {
    await registry.close();
    for (const server of servers) server.close();
  });

  it("reads every process once, sums a route over them, and says which could not be read", async () => {
    answer(local, 200, 3);
    answer(remote, 200, 4);
    await sampler.sampleIfStale();
    let view = sampler.view();
    expect(view.sources.map((s) => s.source).sort()).toEqual([brokenUrl, remoteUrl, THIS_PROCESS].sort());
    expect(view.sources.find((s) => s.source === remoteUrl)?.services).toEqual(["billing", "orders"]);
    expect(view.sources.find((s) => s.source === brokenUrl)?.error).toMatch(/not Prometheus text/);
    expect(view.routes.find((r) => r.key === "GET /api/v1/orders")).toMatchObject({ total: 7, errors: 0, points: [] });
    expect(view.instances.map((i) => [i.key, i.value])).toEqual([
      ["billing", 1],
      ["gateway", 1],
      ["orders", 2],
    ]);

    // Within half a period a second ask reuses the reading.
    clock = 2_000;
    answer(remote, 500, 1);
    await sampler.sampleIfStale();
    expect(sampler.view().sampledAt).toBe(0);

    clock = 5_000;
    answer(local, 404, 2);
    await sampler.sampleIfStale();
    view = sampler.view();
    const orders = view.routes.find((r) => r.key === "GET /api/v1/orders");
    expect(orders).toMatchObject({ total: 10, errors: 1, clientErrors: 2 });
    const [at, requests, rate, errorRatio, clientErrorRatio] = orders?.points[0] ?? [];
    expect([at, requests, rate, errorRatio, clientErrorRatio]).toEqual([5_000, 3, 0.6, 1 / 3, 2 / 3]);
  });
});
