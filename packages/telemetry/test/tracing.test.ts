import { createHost, defineService, FlotillaError, type Middleware } from "@flotilla/core";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SpanTrace, tracing } from "../src/index.js";
import { catalog, inventory, orders, type Shop, shopServices, startShop } from "./shop-fixture.js";

const EDGE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const EDGE_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = `00-${EDGE_TRACE}-${EDGE_SPAN}-01`;

function find(spans: ReadableSpan[], name: string, kind: SpanKind): ReadableSpan {
  const matching = spans.filter((s) => s.name === name && s.kind === kind);
  expect(matching, `${SpanKind[kind]} span ${name}`).toHaveLength(1);
  return matching[0] as ReadableSpan;
}

function expectChild(child: ReadableSpan, parent: ReadableSpan): void {
  expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
  expect(child.parentSpanContext?.spanId, `${child.name} (${SpanKind[child.kind]}) parent`).toBe(
    parent.spanContext().spanId,
  );
}

describe("tracing()", () => {
  let shop: Shop;
  beforeEach(async () => {
    shop = await startShop();
  });
  afterEach(async () => {
    await shop.stop();
  });

  it("links a call chain A→B→C as client → server → client → server in one trace", async () => {
    await shop.host.call(catalog.getProduct, { sku: "kettle" }, { traceparent: TRACEPARENT });
    const spans = shop.exporter.getFinishedSpans();
    expect(spans).toHaveLength(4);
    const client1 = find(spans, "catalog.getProduct", SpanKind.CLIENT);
    const server1 = find(spans, "catalog.getProduct", SpanKind.SERVER);
    const client2 = find(spans, "inventory.stockLevel", SpanKind.CLIENT);
    const server2 = find(spans, "inventory.stockLevel", SpanKind.SERVER);

    expect(client1.spanContext().traceId).toBe(EDGE_TRACE);
    expect(client1.parentSpanContext?.spanId).toBe(EDGE_SPAN);
    expectChild(server1, client1);
    expectChild(client2, server1);
    expectChild(server2, client2);
    // The callee's parent arrived through the transport, so it is a remote parent; the caller's
    // own server span parents its outbound call in-process.
    expect(server1.parentSpanContext?.isRemote).toBe(true);
    expect(client2.parentSpanContext?.isRemote).toBeFalsy();

    expect(client2.attributes).toMatchObject({
      "rpc.system": "flotilla",
      "rpc.service": "inventory",
      "rpc.method": "stockLevel",
      "flotilla.service": "catalog",
    });
    expect(server2.attributes).toMatchObject({
      "rpc.system": "flotilla",
      "rpc.service": "inventory",
      "rpc.method": "stockLevel",
      "flotilla.service": "inventory",
    });
    expect(server2.attributes["flotilla.instance"]).toMatch(/^inventory-/);
    for (const span of spans) expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("hands handlers their server span as ctx.trace", async () => {
    await shop.host.call(catalog.getProduct, { sku: "kettle" });
    const server = find(shop.exporter.getFinishedSpans(), "inventory.stockLevel", SpanKind.SERVER);
    const seen = shop.seen.actions.get("inventory.stockLevel");
    expect(seen).toBeInstanceOf(SpanTrace);
    expect(seen).toMatchObject({ traceId: server.spanContext().traceId, spanId: server.spanContext().spanId });
    // The span itself never leaks into serialized contexts (logs, persisted saga state).
    expect(JSON.parse(JSON.stringify(seen))).toEqual({ traceId: seen?.traceId, spanId: seen?.spanId, flags: 1 });
  });

  it("links an emitted event to its handling: producer → consumer, in the caller's trace", async () => {
    await shop.host.call(orders.placeOrder, { sku: "kettle" }, { traceparent: TRACEPARENT });
    await shop.seen.handled;
    await vi.waitFor(() =>
      expect(shop.exporter.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER)).toBe(true),
    );
    const spans = shop.exporter.getFinishedSpans();
    const server = find(spans, "orders.placeOrder", SpanKind.SERVER);
    const producer = find(spans, "orders.OrderPlaced publish", SpanKind.PRODUCER);
    const consumer = find(spans, "orders.OrderPlaced process", SpanKind.CONSUMER);
    expect(producer.spanContext().traceId).toBe(EDGE_TRACE);
    expectChild(producer, server);
    expectChild(consumer, producer);
    expect(consumer.parentSpanContext?.isRemote).toBe(true);

    const messageId = producer.attributes["messaging.message.id"];
    expect(messageId).toEqual(expect.any(String));
    expect(producer.attributes).toMatchObject({
      "messaging.system": "flotilla",
      "messaging.destination.name": "orders.OrderPlaced",
      "messaging.operation.type": "send",
      "flotilla.service": "orders",
    });
    expect(consumer.attributes).toMatchObject({
      "messaging.system": "flotilla",
      "messaging.destination.name": "orders.OrderPlaced",
      "messaging.message.id": messageId,
      "messaging.operation.type": "process",
      "messaging.consumer.group.name": "notifications.onOrderPlaced",
      "flotilla.delivery.attempt": 1,
      "flotilla.service": "notifications",
    });
    expect(shop.seen.events.get("order-kettle")?.spanId).toBe(consumer.spanContext().spanId);
  });

  it("marks failed spans ERROR with the error's code, on both sides of the call", async () => {
    const err = await shop.host.call(catalog.getProduct, { sku: "missing" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlotillaError);
    expect((err as FlotillaError).code).toBe("INVENTORY_UNKNOWN_SKU");

    const spans = shop.exporter.getFinishedSpans();
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const span = find(spans, "inventory.stockLevel", kind);
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.status.message).toBe("no stock record for missing");
      expect(span.attributes).toMatchObject({
        "error.code": "INVENTORY_UNKNOWN_SKU",
        "error.type": "INVENTORY_UNKNOWN_SKU",
        "flotilla.status": "NOT_FOUND",
      });
      const exception = span.events.find((e) => e.name === "exception");
      expect(exception?.attributes?.["exception.type"]).toBe("INVENTORY_UNKNOWN_SKU");
    }
    // The error travels up the chain: catalog's spans fail with the same code.
    expect(find(spans, "catalog.getProduct", SpanKind.SERVER).attributes["error.code"]).toBe("INVENTORY_UNKNOWN_SKU");
  });

  it("classifies a plain thrown Error as INTERNAL", async () => {
    await expect(shop.host.call(inventory.stockLevel, { sku: "crash" })).rejects.toMatchObject({ code: "INTERNAL" });
    const server = find(shop.exporter.getFinishedSpans(), "inventory.stockLevel", SpanKind.SERVER);
    expect(server.status).toEqual({ code: SpanStatusCode.ERROR, message: "the shelf fell over" });
    expect(server.attributes["flotilla.status"]).toBe("INTERNAL");
  });

  it("marks a call rejected at the boundary (invalid input) as INVALID_ARGUMENT", async () => {
    // @ts-expect-error: the wrong type on purpose
    await expect(shop.host.call(inventory.stockLevel, { sku: 42 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    const client = find(shop.exporter.getFinishedSpans(), "inventory.stockLevel", SpanKind.CLIENT);
    expect(client.attributes["error.code"]).toBe("INVALID_ARGUMENT");
  });

  it("puts the server span's ids on ctx.log lines", async () => {
    await shop.host.call(catalog.getProduct, { sku: "kettle" }, { correlationId: "corr-1" });
    const server = find(shop.exporter.getFinishedSpans(), "inventory.stockLevel", SpanKind.SERVER);
    const line = shop.logs.find((l) => l.msg === "stock checked");
    expect(line).toMatchObject({
      service: "inventory",
      sku: "kettle",
      trace_id: server.spanContext().traceId,
      span_id: server.spanContext().spanId,
      correlation_id: "corr-1",
    });
  });

  it("puts the consumer span's ids on log lines of event handlers", async () => {
    await shop.host.call(orders.placeOrder, { sku: "lamp" });
    await shop.seen.handled;
    const consumer = await vi.waitFor(() =>
      find(shop.exporter.getFinishedSpans(), "orders.OrderPlaced process", SpanKind.CONSUMER),
    );
    expect(shop.logs.find((l) => l.msg === "order noted")).toMatchObject({
      trace_id: consumer.spanContext().traceId,
      span_id: consumer.spanContext().spanId,
    });
  });

  it("carries tracestate from the edge to every hop", async () => {
    await shop.host.call(catalog.getProduct, { sku: "kettle" }, { traceparent: TRACEPARENT, tracestate: "vendor=abc" });
    expect(shop.seen.actions.get("inventory.stockLevel")?.tracestate).toBe("vendor=abc");
    const server = find(shop.exporter.getFinishedSpans(), "inventory.stockLevel", SpanKind.SERVER);
    expect(server.spanContext().traceState?.get("vendor")).toBe("abc");
  });
});

describe("tracing() with other middleware", () => {
  it("makes retried attempts siblings under the caller's span", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    let failures = 1;
    // Outside tracing, as a resilience middleware would be: it passes the same call to `next` again.
    const retryOnce: Middleware = {
      name: "retry-once",
      async call(_call, next) {
        try {
          return await next();
        } catch {
          return next();
        }
      },
    };
    const flaky: Middleware = {
      name: "flaky",
      action(_inv, next) {
        if (failures-- > 0) return Promise.reject(new FlotillaError("UNAVAILABLE", "try again"));
        return next();
      },
    };
    const noop = () => {};
    const seen = { actions: new Map(), events: new Map(), handled: Promise.resolve() };
    const host = createHost({
      services: shopServices(seen, noop).filter((s) => s.name === "inventory"),
      middleware: [retryOnce, tracing({ tracerProvider: provider }), flaky],
    });
    await host.start();
    try {
      await host.call(inventory.stockLevel, { sku: "kettle" }, { traceparent: TRACEPARENT });
      const clients = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
      expect(clients).toHaveLength(2);
      expect(clients.map((s) => s.parentSpanContext?.spanId)).toEqual([EDGE_SPAN, EDGE_SPAN]);
      expect(clients.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
    } finally {
      await host.stop();
      await provider.shutdown();
    }
  });

  it("makes the server span active for other instrumentations while the handler runs", async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer("a-database-driver");
    const probe = defineService(inventory, {
      actions: {
        async stockLevel({ sku }) {
          await new Promise((resolve) => setImmediate(resolve));
          // What an auto-instrumented client does: open a span under whatever is active.
          tracer.startSpan("SELECT stock").end();
          return { sku, available: 1 };
        },
      },
    });
    const host = createHost({ services: [probe], middleware: [tracing({ tracer: provider.getTracer("flotilla") })] });
    await host.start();
    try {
      await host.call(inventory.stockLevel, { sku: "kettle" });
      const spans = exporter.getFinishedSpans();
      expectChild(
        spans.find((s) => s.name === "SELECT stock") as ReadableSpan,
        find(spans, "inventory.stockLevel", SpanKind.SERVER),
      );
      expect(trace.getActiveSpan()).toBeUndefined();
    } finally {
      await host.stop();
      await provider.shutdown();
      context.disable();
    }
  });
});

describe("ctx.startSpan and ctx.tracer", () => {
  const pricing = defineService(inventory, {
    actions: {
      async stockLevel({ sku }, ctx) {
        const span = ctx.startSpan("price rules", { attributes: { "rules.count": 3 } });
        span.end();
        return { sku, available: ctx.tracer === undefined ? 0 : 1 };
      },
    },
  });

  it("opens a handler's own span as a child of the handler's span, with the host's tracer", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer("flotilla");
    const host = createHost({ services: [pricing], tracer, middleware: [tracing({ tracer })] });
    await host.start();
    try {
      const answer = await host.call(inventory.stockLevel, { sku: "kettle" }, { traceparent: TRACEPARENT });
      expect(answer.available).toBe(1);
      const spans = exporter.getFinishedSpans();
      const own = find(spans, "price rules", SpanKind.INTERNAL);
      expectChild(own, find(spans, "inventory.stockLevel", SpanKind.SERVER));
      expect(own.spanContext().traceId).toBe(EDGE_TRACE);
      expect(own.attributes["rules.count"]).toBe(3);
    } finally {
      await host.stop();
      await provider.shutdown();
    }
  });

  it("without a tracer, gives a span that records nothing", async () => {
    const host = createHost({ services: [pricing] });
    await host.start();
    try {
      expect((await host.call(inventory.stockLevel, { sku: "kettle" })).available).toBe(0);
    } finally {
      await host.stop();
    }
  });
});
