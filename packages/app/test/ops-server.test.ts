/** The ops port's trace receiver and queries, fed by the real OTLP/HTTP exporter of two "instances". */
import { gzipSync } from "node:zlib";
import { createHost, type Host, MemoryTransport } from "@flotilla/core";
import { memoryTraceStore, metrics, type SpanRecord, type TraceSummary } from "@flotilla/telemetry";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type OpsServer, startOpsServer } from "../src/ops-server.js";

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;

function instance(service: string, exporter: ExporterConfig): BasicTracerProvider {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": service, "service.instance.id": `${service}-1` }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter(exporter))],
  });
}

describe("ops server", () => {
  let host: Host;
  let ops: OpsServer;
  const store = () => memoryTraceStore();
  let traces: ReturnType<typeof store>;

  beforeEach(async () => {
    host = createHost({ services: [], transport: new MemoryTransport() });
    await host.start();
    traces = store();
    const telemetry = metrics();
    ops = await startOpsServer(host, telemetry, { port: 0, host: "127.0.0.1" }, { traces });
  });
  afterEach(async () => {
    await ops.close();
    await host.stop();
  });

  const post = (body: string | Buffer, headers: Record<string, string> = { "content-type": "application/json" }) =>
    fetch(`${ops.url}/v1/traces`, { method: "POST", body, headers });

  it("assembles one trace from the spans two instances export to it", async () => {
    const gateway = instance("gateway", { url: `${ops.url}/v1/traces` });
    const orders = instance("orders", {
      url: `${ops.url}/v1/traces`,
      compression: "gzip",
    } as ExporterConfig);
    const root = gateway.getTracer("t").startSpan("POST /api/v1/orders", {
      kind: SpanKind.SERVER,
      attributes: { "http.route": "/api/v1/orders", "http.request.method": "POST" },
    });
    // What the transport carries between the processes: the span context alone.
    const remote = trace.wrapSpanContext({ ...root.spanContext(), isRemote: true });
    const handler = orders
      .getTracer("t")
      .startSpan("orders.place", { kind: SpanKind.SERVER }, trace.setSpan(context.active(), remote));
    handler.setStatus({ code: SpanStatusCode.ERROR, message: "out of stock" });
    handler.end();
    root.end();
    await orders.forceFlush();
    await gateway.forceFlush();
    await Promise.all([gateway.shutdown(), orders.shutdown()]);

    const traceId = root.spanContext().traceId;
    const listed = await fetch(`${ops.url}/traces?route=${encodeURIComponent("POST /api/v1/orders")}&status=error`);
    expect(listed.status).toBe(200);
    const { traces: summaries } = (await listed.json()) as { traces: TraceSummary[] };
    expect(summaries).toMatchObject([
      {
        traceId,
        name: "POST /api/v1/orders",
        service: "gateway",
        spans: 2,
        errors: 1,
        services: ["gateway", "orders"],
      },
    ]);
    const one = await fetch(`${ops.url}/traces/${traceId}`);
    expect(one.status).toBe(200);
    const { spans } = (await one.json()) as { spans: SpanRecord[] };
    // By start time; the two may start in the same microsecond, so their order is not checked.
    const rows = spans.map((s) => [s.name, s.service, s.instance, s.parentSpanId ?? null]);
    expect(rows).toHaveLength(2);
    expect(rows).toEqual(
      expect.arrayContaining([
        ["POST /api/v1/orders", "gateway", "gateway-1", null],
        ["orders.place", "orders", "orders-1", root.spanContext().spanId],
      ]),
    );
  });

  it("answers protobuf with 415, saying it takes JSON only", async () => {
    const res = await post(Buffer.from([0x0a, 0x00]), { "content-type": "application/x-protobuf" });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { message: string }).message).toMatch(/OTLP\/HTTP JSON only/);
  });

  it("refuses malformed and oversized exports with their reason, and keeps nothing of them", async () => {
    const bad = await post(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "nope" }] }] }] }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/traceId: expected 32 hex characters/);
    const notJson = await post("{", { "content-type": "application/json; charset=utf-8" });
    expect(notJson.status).toBe(400);
    const huge = await post(JSON.stringify({ resourceSpans: [], padding: "x".repeat(9 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    const bomb = await post(gzipSync(Buffer.alloc(9 * 1024 * 1024, 0x20)), {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(bomb.status).toBe(413);
    expect(traces.stats().spans).toBe(0);
  });

  it("checks the query and the trace id, and says when a trace is unknown", async () => {
    expect((await fetch(`${ops.url}/traces?status=maybe`)).status).toBe(400);
    expect((await fetch(`${ops.url}/traces?limit=0`)).status).toBe(400);
    expect((await fetch(`${ops.url}/traces?colour=red`)).status).toBe(400);
    expect((await fetch(`${ops.url}/traces/xyz`)).status).toBe(400);
    const missing = await fetch(`${ops.url}/traces/${"ab".repeat(16)}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: `no trace ${"ab".repeat(16)}` });
    const empty = await fetch(`${ops.url}/traces?order=slowest&minMs=5&limit=3`);
    expect(await empty.json()).toEqual({ traces: [] });
  });

  it("still serves /livez, /readyz and /metrics, and refuses other methods", async () => {
    expect((await fetch(`${ops.url}/livez`)).status).toBe(200);
    expect((await fetch(`${ops.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${ops.url}/metrics`)).headers.get("content-type")).toMatch(/text\/plain/);
    expect((await fetch(`${ops.url}/livez`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${ops.url}/v1/traces`)).status).toBe(405);
  });
});

describe("ops server without a trace store", () => {
  it("has no receiver and no trace queries", async () => {
    const host = createHost({ services: [], transport: new MemoryTransport() });
    await host.start();
    const ops = await startOpsServer(host, metrics(), { port: 0, host: "127.0.0.1" });
    try {
      const res = await fetch(`${ops.url}/v1/traces`, { method: "POST", body: "{}" });
      expect(res.status).toBe(404);
      expect((await fetch(`${ops.url}/traces`)).status).toBe(404);
      expect((await fetch(`${ops.url}/livez`)).status).toBe(200);
    } finally {
      await ops.close();
      await host.stop();
    }
  });
});
