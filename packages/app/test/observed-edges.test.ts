/** The Topology view's observed edges and pub/sub map, from hand-made spans. */
import { SpanKinds } from "@flotilla/telemetry";
import { describe, expect, it } from "vitest";
import { observedGraph } from "../src/dashboard/observed-graph.js";
import type { DeclaredPubSub } from "../src/dashboard/observed-pubsub.js";
import { HandTrace } from "./support/hand-made-spans.js";

const MINUTE = 60_000;
const NONE: DeclaredPubSub = { events: [], subscriptions: [] };
const graphOf = (traces: HandTrace[], declared = NONE, windowMs = MINUTE) =>
  observedGraph(
    traces.flatMap((t) => t.spans),
    declared,
    { windowMs, nowMs: 1_800_000_000_000 },
  );

describe("observed call edges", () => {
  it("draws an edge per caller and callee, with calls per minute, error ratio and latency percentiles", () => {
    const traces = Array.from({ length: 4 }, (_, i) => {
      const t = new HandTrace();
      const orders = t.call(t.request(), "orders", "createOrder", { durationMs: 40 });
      t.call(orders, "catalog", "getProducts", { durationMs: (i + 1) * 10, error: i === 3 });
      return t;
    });
    const graph = graphOf(traces, NONE, 2 * MINUTE);
    expect(graph.calls).toEqual([
      {
        from: "gateway",
        to: "orders",
        via: "call",
        calls: 4,
        perMinute: 2,
        errors: 0,
        errorRatio: 0,
        p50Ms: 40,
        p95Ms: 40,
        actions: ["orders.createOrder"],
      },
      {
        from: "orders",
        to: "catalog",
        via: "call",
        calls: 4,
        perMinute: 2,
        errors: 1,
        errorRatio: 0.25,
        p50Ms: 20,
        p95Ms: 40,
        actions: ["catalog.getProducts"],
      },
    ]);
    expect(graph.events).toEqual([]);
  });

  it("draws no edge for a call within one service, nor for a call whose callee's span is not kept", () => {
    const t = new HandTrace();
    const root = t.request();
    t.call(t.span("gateway", "part stock", SpanKinds.internal, root), "gateway", "local");
    t.span("gateway", "orders.createOrder", SpanKinds.client, root);
    expect(graphOf([t]).calls).toEqual([]);
  });

  it("tells a saga's step (a PRODUCER span and the participant's SERVER span) from a call", () => {
    const t = new HandTrace();
    const step = t.span("orders", "saga checkout charge", SpanKinds.producer, t.request());
    t.span("payments", "payments.charge", SpanKinds.server, step);
    expect(graphOf([t]).calls.map((c) => [c.from, c.to, c.via])).toEqual([["orders", "payments", "saga"]]);
    // A saga command names no event type: it is no publish.
    expect(graphOf([t]).pubsub).toEqual([]);
  });
});

describe("observed event edges and the pub/sub map", () => {
  const declared: DeclaredPubSub = {
    events: [
      { type: "orders.OrderPlaced", service: "orders" },
      { type: "orders.OrderCancelled", service: "orders" },
      { type: "payments.PaymentTaken", service: "payments" },
    ],
    subscriptions: [
      { service: "notifications", group: "notifications.onOrderPlaced", type: "orders.OrderPlaced" },
      { service: "shipping", group: "shipping.onCancelled", type: "orders.OrderCancelled" },
    ],
  };

  it("draws producer → consumer edges per event type, and a map with no mismatch when traffic follows the declarations", () => {
    const t = new HandTrace();
    const orders = t.call(t.request(), "orders", "createOrder");
    t.publish(orders, "orders.OrderPlaced", [
      { service: "notifications", group: "notifications.onOrderPlaced", error: true },
    ]);
    const graph = graphOf([t], {
      events: declared.events.slice(0, 1),
      subscriptions: declared.subscriptions.slice(0, 1),
    });
    expect(graph.events).toEqual([
      {
        from: "orders",
        to: "notifications",
        type: "orders.OrderPlaced",
        groups: ["notifications.onOrderPlaced"],
        deliveries: 1,
        perMinute: 1,
        errors: 1,
        errorRatio: 1,
      },
    ]);
    expect(graph.pubsub).toEqual([
      {
        type: "orders.OrderPlaced",
        declaredBy: "orders",
        subscribers: [{ service: "notifications", group: "notifications.onOrderPlaced" }],
        publishers: [{ service: "orders", published: 1 }],
        consumers: [{ service: "notifications", group: "notifications.onOrderPlaced", deliveries: 1, declared: true }],
        mismatches: [],
      },
    ]);
  });

  it("flags each kind of mismatch, in words", () => {
    const t = new HandTrace();
    const root = t.request();
    const payments = t.call(root, "payments", "charge");
    // Published twice, consumed by no one (and no one subscribes).
    t.publish(payments, "payments.PaymentTaken", []);
    t.publish(payments, "payments.PaymentTaken", []);
    // Declared by orders' contract, published by payments, consumed by a service that did not subscribe.
    t.publish(payments, "orders.OrderPlaced", [{ service: "reviews", group: "reviews.sneak" }]);
    const byType = new Map(graphOf([t], declared).pubsub.map((e) => [e.type, e.mismatches]));

    expect(byType.get("payments.PaymentTaken")).toEqual([
      {
        kind: "published-never-consumed",
        text: "published 2 times by payments, consumed by no one: no service subscribes to it",
      },
    ]);
    expect(byType.get("orders.OrderCancelled")).toEqual([
      { kind: "consumed-never-published", text: "shipping subscribes to it, but it was not published in the window" },
    ]);
    expect(byType.get("orders.OrderPlaced")).toEqual([
      { kind: "publisher-differs", text: "declared by the orders contract, but published by payments" },
      {
        kind: "undeclared-consumer",
        text: "consumed by reviews (group reviews.sneak), which declares no subscription to it",
      },
    ]);
  });

  it("flags an event consumed here whose publish was never seen, and one published that no contract declares", () => {
    const t = new HandTrace();
    const producer = t.span("legacy", "legacy.Thing publish", SpanKinds.producer, undefined, {
      attributes: { "messaging.destination.name": "legacy.Thing" },
    });
    t.span("orders", "orders.Orphan process", SpanKinds.consumer, undefined, {
      attributes: { "messaging.destination.name": "orders.Orphan", "messaging.consumer.group.name": "orders.onOrphan" },
    });
    expect(producer.service).toBe("legacy");
    const byType = new Map(graphOf([t]).pubsub.map((e) => [e.type, e.mismatches.map((m) => m.text)]));
    expect(byType.get("orders.Orphan")).toEqual([
      "consumed by orders, but no publish of it was seen (its publisher sends no spans here)",
      "consumed by orders (group orders.onOrphan), which declares no subscription to it",
    ]);
    expect(byType.get("legacy.Thing")).toEqual([
      "published once by legacy, consumed by no one: no service subscribes to it",
      "published by legacy, but no contract of the app declares it",
    ]);
  });
});
