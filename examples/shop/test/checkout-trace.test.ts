/**
 * One checkout, one trace: the shop embedded with tracing on (its default), a checkout placed over HTTP
 * under a caller's `traceparent`, and the trace read back from the process's embedded store with
 * every hop in it, correctly parented: the gateway, the order, each saga step and its participant,
 * the database transactions, and the notification.
 */
import type { SpanRecord } from "@flotilla/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionCounter, type CountedShop, startCountedShop } from "./support/attack.js";
import { ADDRESS, CARDS, type Headers, NOWHERE, ShopClient } from "./support/shop-client.js";
import { waitForTrace } from "./support/traces.js";

const CALLER_SPAN = "00f067aa0ba902b7";
const newTraceId = () => crypto.randomUUID().replaceAll("-", "");

describe("a checkout's trace, embedded", () => {
  let shop: CountedShop;
  let client: ShopClient;
  let demo: Headers;
  beforeAll(async () => {
    shop = await startCountedShop(actionCounter(), {
      env: { SHOP_DISPATCH_DELAY_MS: "100", SHOP_DISPATCH_SWEEP_MS: "50" },
    });
    client = new ShopClient(shop.url);
    demo = await client.signIn("demo@flotilla.dev", "demo-password");
  }, 60_000);
  afterAll(() => shop?.stop());

  const place = async (card: string, shipping = ADDRESS) => {
    const traceId = newTraceId();
    const placed = await client.placeOrder(
      demo,
      { items: [{ productId: "prod-french-press", quantity: 1 }], payment: { card }, shipping },
      { traceparent: `00-${traceId}-${CALLER_SPAN}-01` },
    );
    expect(placed.status).toBe(202);
    return { traceId, orderId: placed.body.orderId as string };
  };

  it("covers the gateway, the order, every saga step with its participant, and the notification", async () => {
    const { traceId, orderId } = await place(CARDS.ok);
    await client.settled(demo, orderId, new Set(["shipped"]));
    const store = shop.app.traces?.store;
    expect(store).toBeDefined();
    const spans = await waitForTrace(store!, traceId, (s) =>
      s.some((x) => x.service === "notifications" && x.name.endsWith("process") && x.status !== 2 && shippedEvent(x)),
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: SpanRecord) => (s.parentSpanId === undefined ? undefined : byId.get(s.parentSpanId));
    const one = (pred: (s: SpanRecord) => boolean, what: string) => {
      const found = spans.filter(pred);
      expect(found.length, `${what} in ${spans.map((s) => `${s.service}:${s.name}`).join(", ")}`).toBeGreaterThan(0);
      return found[0] as SpanRecord;
    };

    // Every span is in the caller's trace, and every parent is in it too, but the caller's own span.
    for (const s of spans) {
      expect(s.traceId).toBe(traceId);
      if (s.parentSpanId !== CALLER_SPAN) expect(parentOf(s), `parent of ${s.service}:${s.name}`).toBeDefined();
    }
    const edge = one((s) => s.service === "gateway" && s.name === "POST /api/v1/orders", "the gateway's span");
    expect(edge.parentSpanId).toBe(CALLER_SPAN);
    expect(edge.kind).toBe(1);
    expect(edge.attributes["http.response.status_code"]).toBe(202);

    const createOrder = one(
      (s) => s.service === "orders" && s.kind === 1 && s.name === "orders.createOrder",
      "orders' server span",
    );
    expect(ancestors(createOrder, parentOf)).toContain(edge);
    one(
      (s) => s.service === "orders" && s.name === "db transaction" && parentOf(s) === createOrder,
      "the order's transaction",
    );

    // Each step: the orchestrator's decision, the participant's server span under it, then its settling.
    const participants: Record<string, string> = {
      reserve: "inventory",
      charge: "payments",
      ship: "shipping",
      commit: "inventory",
    };
    let previous: SpanRecord = createOrder;
    for (const [step, service] of Object.entries(participants)) {
      const sent = one((s) => s.name === `saga checkout ${step}`, `the ${step} step`);
      expect(ancestors(sent, parentOf)).toContain(previous);
      const served = one(
        (s) => s.service === service && s.kind === 1 && parentOf(s) === sent,
        `${service} serving ${step}`,
      );
      expect(served.status).not.toBe(2);
      previous = one((s) => s.name === `saga checkout settle ${step}` && parentOf(s) === sent, `${step} settled`);
    }
    expect(previous.attributes["flotilla.saga.finished"]).toBe("completed");

    const notified = spans.filter((s) => s.service === "notifications" && s.kind === 4);
    expect(notified.length).toBeGreaterThan(0);
    for (const n of notified) expect(ancestors(n, parentOf)).toContain(edge);
  });

  it("a cancelled checkout's trace shows where it failed and the compensations that followed", async () => {
    const { traceId, orderId } = await place(CARDS.ok, NOWHERE);
    expect(await client.settled(demo, orderId)).toMatchObject({ status: "cancelled" });
    const spans = await waitForTrace(shop.app.traces!.store!, traceId, (s) =>
      s.some((x) => x.attributes["flotilla.saga.finished"] === "compensated"),
    );
    const failed = spans.find((s) => s.service === "shipping" && s.kind === 1 && s.status === 2);
    expect(failed, "shipping's failed server span").toBeDefined();
    expect(failed?.attributes["error.code"]).toBe("DESTINATION_NOT_SERVED");
    const settled = spans.find((s) => s.name === "saga checkout settle ship");
    expect(settled?.attributes["error.type"]).toBe("DESTINATION_NOT_SERVED");
    const names = spans.map((s) => s.name);
    expect(names).toContain("saga checkout compensate charge");
    expect(names).toContain("saga checkout compensate reserve");
    // Compensations run in reverse: the refund is decided before the release.
    const at = (name: string) => spans.find((s) => s.name === name)?.startMs ?? Number.NaN;
    expect(at("saga checkout compensate charge")).toBeLessThan(at("saga checkout compensate reserve"));
  });
});

function shippedEvent(span: SpanRecord): boolean {
  return String(span.attributes["messaging.destination.name"] ?? "").includes("OrderStatusChanged");
}

function ancestors(span: SpanRecord, parentOf: (s: SpanRecord) => SpanRecord | undefined): SpanRecord[] {
  const out: SpanRecord[] = [];
  for (let p = parentOf(span); p !== undefined; p = parentOf(p)) out.push(p);
  return out;
}
