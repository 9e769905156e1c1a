import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FlotillaError } from "@flotilla/core";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { LightTracer, type SpanRecord, samplerFromEnv, traceRecorder } from "../src/index.js";

function collecting(): { spans: SpanRecord[]; sink: { onEnd(s: SpanRecord): void } } {
  const spans: SpanRecord[] = [];
  return { spans, sink: { onEnd: (s) => spans.push(s) } };
}

/** A real OTLP/HTTP endpoint: keeps every request body it receives, parsed as JSON. */
async function otlpEndpoint(): Promise<{ url: string; bodies: unknown[]; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number; message?: string };
}

function exportedSpans(bodies: unknown[]): Array<OtlpSpan & { service: string }> {
  const out: Array<OtlpSpan & { service: string }> = [];
  for (const body of bodies as Array<{ resourceSpans: Array<Record<string, unknown>> }>) {
    for (const rs of body.resourceSpans) {
      const attrs = (rs.resource as { attributes: Array<{ key: string; value: { stringValue?: string } }> }).attributes;
      const service = attrs.find((a) => a.key === "service.name")?.value.stringValue ?? "";
      for (const ss of rs.scopeSpans as Array<{ spans: OtlpSpan[] }>) {
        for (const span of ss.spans) out.push({ ...span, service });
      }
    }
  }
  return out;
}

describe("LightTracer", () => {
  it("records a child under its parent with kind, attributes, events, status and the span's service", () => {
    const { spans, sink } = collecting();
    const tracer = new LightTracer({ service: "shop", instance: "host-1", sink });
    const root = tracer.startSpan("GET /orders", { kind: SpanKind.SERVER, attributes: { "http.route": "/orders" } });
    const child = tracer.startSpan(
      "orders.get",
      { kind: SpanKind.CLIENT, attributes: { "flotilla.service": "orders" } },
      trace.setSpan(ROOT_CONTEXT, root),
    );
    child.addEvent("retry", { attempt: 2 });
    child.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
    child.setStatus({ code: SpanStatusCode.UNSET });
    child.end();
    root.end();
    root.setAttribute("late", true);

    expect(spans.map((s) => s.name)).toEqual(["orders.get", "GET /orders"]);
    const [c, r] = spans as [SpanRecord, SpanRecord];
    expect(r.parentSpanId).toBeUndefined();
    expect(c.traceId).toBe(r.traceId);
    expect(c.parentSpanId).toBe(r.spanId);
    expect(c.kind).toBe(SpanKind.CLIENT);
    expect(c.service).toBe("orders");
    expect(r.service).toBe("shop");
    expect(r.instance).toBe("host-1");
    expect(c.status).toBe(SpanStatusCode.ERROR);
    expect(c.statusMessage).toBe("boom");
    expect(c.events?.[0]).toMatchObject({ name: "retry", attributes: { attempt: 2 } });
    expect(r.attributes).toEqual({ "http.route": "/orders" });
    expect(r.durationMs).toBeGreaterThanOrEqual(c.durationMs);
    expect(c.sampled && r.sampled).toBe(true);
  });

  it("continues a remote parent's trace and keeps its sampled flag and trace state", () => {
    const { spans, sink } = collecting();
    const tracer = new LightTracer({ service: "shop", sink });
    const remote = trace.wrapSpanContext({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 0,
      isRemote: true,
    });
    tracer.startSpan("handle", {}, trace.setSpan(ROOT_CONTEXT, remote)).end();
    expect(spans[0]).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentSpanId: "00f067aa0ba902b7",
      sampled: false,
    });
  });

  it("records spans the head sampler drops, marked unsampled, for the local tail decision", () => {
    const { spans, sink } = collecting();
    const tracer = new LightTracer({
      service: "shop",
      sink,
      sampler: samplerFromEnv({ OTEL_TRACES_SAMPLER: "always_off" }),
    });
    const span = tracer.startSpan("dropped");
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceFlags).toBe(0);
    span.end();
    expect(spans).toHaveLength(1);
    expect(spans[0]?.sampled).toBe(false);
  });
});

describe("samplerFromEnv", () => {
  it("refuses an unknown sampler or a ratio outside [0, 1] with CONFIG", () => {
    for (const env of [
      { OTEL_TRACES_SAMPLER: "sometimes" },
      { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "1.5" },
      { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "half" },
    ]) {
      expect(() => samplerFromEnv(env), JSON.stringify(env)).toThrow(FlotillaError);
      try {
        samplerFromEnv(env);
      } catch (err) {
        expect((err as FlotillaError).code).toBe("FLOTILLA_CONFIG");
      }
    }
  });
});

describe("traceRecorder", () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  it("exports sampled spans over OTLP/HTTP JSON to the endpoint OTEL_EXPORTER_OTLP_ENDPOINT names", async () => {
    const endpoint = await otlpEndpoint();
    open.push(endpoint);
    const recorder = traceRecorder({
      service: "shop",
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint.url, OTEL_BSP_SCHEDULE_DELAY: "20" },
    });
    expect(recorder.exporting).toBe(true);
    const root = recorder.tracer.startSpan("root", { kind: SpanKind.SERVER });
    const child = recorder.tracer.startSpan(
      "child",
      { attributes: { "flotilla.service": "orders" } },
      trace.setSpan(ROOT_CONTEXT, root),
    );
    child.setStatus({ code: SpanStatusCode.ERROR, message: "declined" });
    child.end();
    root.end();
    await recorder.flush();
    await recorder.close();

    const spans = exportedSpans(endpoint.bodies);
    expect(spans.map((s) => s.name).sort()).toEqual(["child", "root"]);
    const r = spans.find((s) => s.name === "root");
    const c = spans.find((s) => s.name === "child");
    expect(c?.traceId).toBe(r?.traceId);
    expect(c?.parentSpanId).toBe(r?.spanId);
    expect(r?.service).toBe("shop");
    expect(c?.service).toBe("orders");
    expect(r?.kind).toBe(SpanKind.SERVER + 1);
    expect(c?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "declined" });
    expect(recorder.stats()).toMatchObject({ recorded: 2, otlp: { exported: 2, failed: 0 } });
  });

  it("sends nothing over OTLP for traces the head sampler dropped, but sends every span to a collector", async () => {
    const backend = await otlpEndpoint();
    const collector = await otlpEndpoint();
    open.push(backend, collector);
    const recorder = traceRecorder({
      service: "shop",
      collector: `${collector.url}/v1/traces`,
      env: {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${backend.url}/v1/traces`,
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0",
      },
    });
    recorder.tracer.startSpan("unsampled").end();
    await recorder.close();
    expect(exportedSpans(backend.bodies)).toEqual([]);
    expect(exportedSpans(collector.bodies).map((s) => s.name)).toEqual(["unsampled"]);
  });

  it("exports nothing without OTEL_* settings, and refuses protocols and exporters it does not speak", () => {
    expect(traceRecorder({ service: "shop", env: {} }).exporting).toBe(false);
    expect(
      traceRecorder({
        service: "shop",
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318", OTEL_TRACES_EXPORTER: "none" },
      }).exporting,
    ).toBe(false);
    expect(() =>
      traceRecorder({
        service: "shop",
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      }),
    ).toThrow(/http\/json/);
    expect(() => traceRecorder({ service: "shop", env: { OTEL_TRACES_EXPORTER: "zipkin" } })).toThrow(/zipkin/);
  });

  it("drops spans past the queue bound instead of holding them without limit when the endpoint is down", async () => {
    const recorder = traceRecorder({
      service: "shop",
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
        OTEL_BSP_MAX_QUEUE_SIZE: "10",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "10",
        OTEL_EXPORTER_OTLP_TIMEOUT: "500",
      },
    });
    for (let i = 0; i < 25; i++) recorder.tracer.startSpan(`s${i}`).end();
    const stats = recorder.stats();
    expect(stats.recorded).toBe(25);
    // Ten went out in the first batch, ten wait behind it, five found the queue full.
    expect(stats.otlp).toMatchObject({ droppedQueueFull: 5, queued: 10 });
    await recorder.close();
    expect(recorder.stats().otlp?.failed).toBeGreaterThan(0);
  });
});
