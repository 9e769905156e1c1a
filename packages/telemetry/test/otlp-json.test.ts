/** decodeOtlpJson against what the real OTLP/HTTP exporter sends, and against malformed requests. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeOtlpJson, type SpanRecord } from "../src/index.js";

function msOf(hr: readonly [number, number]): number {
  return Number((BigInt(hr[0]) * 1_000_000_000n + BigInt(hr[1])) / 1000n) / 1000;
}

/** The record a span should decode to, written from the SDK's own view of the span. */
function expected(span: ReadableSpan, service: string, instance: string): SpanRecord {
  const sc = span.spanContext();
  const startNs = BigInt(span.startTime[0]) * 1_000_000_000n + BigInt(span.startTime[1]);
  const endNs = BigInt(span.endTime[0]) * 1_000_000_000n + BigInt(span.endTime[1]);
  return {
    traceId: sc.traceId,
    spanId: sc.spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    name: span.name,
    kind: span.kind,
    startMs: msOf(span.startTime),
    durationMs: Number((endNs - startNs) / 1000n) / 1000,
    status: span.status.code,
    ...(span.status.message ? { statusMessage: span.status.message } : {}),
    service,
    instance,
    attributes: { ...span.attributes } as SpanRecord["attributes"],
    ...(span.events.length
      ? {
          events: span.events.map((e) => ({
            name: e.name,
            timeMs: msOf(e.time),
            ...(e.attributes && Object.keys(e.attributes).length ? { attributes: { ...e.attributes } } : {}),
          })),
        }
      : {}),
    ...(span.links.length
      ? {
          links: span.links.map((l) => ({
            traceId: l.context.traceId,
            spanId: l.context.spanId,
            ...(l.attributes ? { attributes: { ...l.attributes } } : {}),
          })),
        }
      : {}),
    sampled: true,
  } as SpanRecord;
}

describe("decodeOtlpJson", () => {
  let server: Server;
  let url: string;
  const bodies: { type: string | undefined; body: Buffer }[] = [];

  beforeEach(async () => {
    bodies.length = 0;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        bodies.push({ type: req.headers["content-type"], body: Buffer.concat(chunks) });
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("reads back every field of spans the real exporter sent", async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": "shop", "service.instance.id": "shop-7" }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url })), new SimpleSpanProcessor(memory)],
    });
    const tracer = provider.getTracer("test");
    const remote = trace.wrapSpanContext({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
      isRemote: true,
    });
    const root = tracer.startSpan(
      "POST /api/v1/orders",
      {
        kind: SpanKind.SERVER,
        attributes: {
          "http.route": "/api/v1/orders",
          "http.response.status_code": 201,
          ratio: 0.25,
          cached: false,
          tags: ["a", "b"],
          sizes: [1, 2, 3],
        },
        links: [{ context: remote.spanContext(), attributes: { why: "batch" } }],
      },
      trace.setSpan(context.active(), remote),
    );
    root.addEvent("accepted", { "queue.depth": 3 });
    const child = tracer.startSpan(
      "payments.charge",
      { kind: SpanKind.CLIENT, attributes: { "flotilla.service": "orders" } },
      trace.setSpan(context.active(), root),
    );
    child.setStatus({ code: SpanStatusCode.ERROR, message: "card declined" });
    child.setAttribute("error.type", "CARD_DECLINED");
    child.end();
    const producer = tracer.startSpan(
      "OrderPlaced publish",
      { kind: SpanKind.PRODUCER },
      trace.setSpan(context.active(), root),
    );
    producer.end();
    root.setStatus({ code: SpanStatusCode.OK });
    root.end();
    await provider.forceFlush();
    // Read before shutting down: shutting the in-memory exporter down forgets its spans.
    const finished = memory.getFinishedSpans();
    await provider.shutdown();

    expect(bodies.length).toBeGreaterThan(0);
    for (const { type } of bodies) expect(type).toBe("application/json");
    const decoded = bodies.flatMap(({ body }) => decodeOtlpJson(body));
    expect(finished).toHaveLength(3);
    const want = finished.map((s) => expected(s, s.name === "payments.charge" ? "orders" : "shop", "shop-7"));
    expect(decoded).toEqual(want);
    // The remote parent is kept as the root's parent: the trace continues one from another process.
    expect(decoded.find((s) => s.kind === 1)?.parentSpanId).toBe("00f067aa0ba902b7");
    expect(decoded.map((s) => s.kind).sort()).toEqual([1, 2, 3]);
  });

  const span = (fields: Record<string, unknown> = {}) => ({
    traceId: "5B8EFFF798038103D269B633813FC60C",
    spanId: "EEE19B7EC3C1B174",
    name: "op",
    kind: 2,
    startTimeUnixNano: "1544712660000000000",
    endTimeUnixNano: "1544712661000123456",
    ...fields,
  });
  const request = (spans: unknown[], resource: unknown = { attributes: [] }) =>
    JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: "x" }, spans }] }] });

  it("reads ids in either case, times to the microsecond, flags, enum names and nested values", () => {
    const [a, b] = decodeOtlpJson(
      request([
        span({ flags: 0x100, status: { code: "STATUS_CODE_ERROR" }, kind: "SPAN_KIND_CONSUMER" }),
        span({
          spanId: "eee19b7ec3c1b175",
          parentSpanId: "",
          flags: 0x101,
          attributes: [
            { key: "big", value: { intValue: "9007199254740993" } },
            { key: "map", value: { kvlistValue: { values: [{ key: "k", value: { stringValue: "v" } }] } } },
            { key: "mixed", value: { arrayValue: { values: [{ stringValue: "a" }, { intValue: 1 }] } } },
            { key: "empty", value: {} },
          ],
        }),
      ]),
    );
    expect(a).toMatchObject({
      traceId: "5b8efff798038103d269b633813fc60c",
      spanId: "eee19b7ec3c1b174",
      kind: 4,
      status: 2,
      startMs: 1544712660000,
      durationMs: 1000.123,
      service: "unknown_service",
      sampled: false,
    });
    expect(a?.parentSpanId).toBeUndefined();
    expect(b).toMatchObject({
      sampled: true,
      attributes: { big: 9007199254740992, map: '{"k":"v"}', mixed: '["a",1]' },
    });
    expect(b?.attributes).not.toHaveProperty("empty");
  });

  it("refuses malformed requests, naming what is wrong", () => {
    const bad = (body: string) => () => decodeOtlpJson(body);
    expect(bad("{")).toThrow(/not JSON/);
    expect(bad("[]")).toThrow(/the request: expected an object/);
    expect(bad(JSON.stringify({ resourceSpans: {} }))).toThrow(/resourceSpans: expected an array/);
    expect(bad(request([span({ traceId: "xyz" })]))).toThrow(
      /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: expected 32 hex characters, got "xyz"/,
    );
    expect(bad(request([span({ traceId: "0".repeat(32) })]))).toThrow(/all-zero/);
    expect(bad(request([span({ spanId: "abc" })]))).toThrow(/spanId: expected 16 hex/);
    expect(bad(request([span({ parentSpanId: 12 })]))).toThrow(/parentSpanId/);
    expect(bad(request([span({ startTimeUnixNano: "soon" })]))).toThrow(/startTimeUnixNano: expected nanoseconds/);
    expect(bad(request([span({ name: undefined })]))).toThrow(/name: expected a string/);
    expect(bad(request([span({ kind: 9 })]))).toThrow(/kind: expected one of 0…5/);
    expect(bad(request([span({ attributes: [{ key: "a", value: { boolValue: "yes" } }] })]))).toThrow(/boolValue/);
    expect(() => decodeOtlpJson(request([span()]), { maxBytes: 100 })).toThrow(
      expect.objectContaining({ code: "RESOURCE_EXHAUSTED" }),
    );
    expect(bad(request([span()]))).not.toThrow();
  });

  it("takes the service from flotilla.service over the resource, the instance from the resource", () => {
    const resource = {
      attributes: [
        { key: "service.name", value: { stringValue: "shop" } },
        { key: "service.instance.id", value: { stringValue: "i-1" } },
      ],
    };
    const [plain, own] = decodeOtlpJson(
      request(
        [
          span(),
          span({
            spanId: "eee19b7ec3c1b175",
            attributes: [{ key: "flotilla.service", value: { stringValue: "orders" } }],
          }),
        ],
        resource,
      ),
    );
    expect(plain).toMatchObject({ service: "shop", instance: "i-1" });
    expect(own).toMatchObject({ service: "orders", instance: "i-1" });
  });
});
