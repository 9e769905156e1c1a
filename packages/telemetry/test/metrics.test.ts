import { createHost } from "@flotilla/core";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { metrics, renderMetrics } from "../src/index.js";
import { catalog, inventory, orders, type Shop, shopServices, startShop } from "./shop-fixture.js";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition into samples (enough of the format for these series). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k as string] = v as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(labels).length === Object.keys(s.labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(found.length, `${name}${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

describe("metrics()", () => {
  let shop: Shop;
  beforeEach(async () => {
    shop = await startShop();
  });
  afterEach(async () => {
    await shop.stop();
  });

  it("records RED series for calls, actions and events", async () => {
    await shop.host.call(orders.placeOrder, { sku: "kettle" });
    await shop.host.call(catalog.getProduct, { sku: "lamp" });
    await shop.host.call(catalog.getProduct, { sku: "chair" });
    await shop.host.call(catalog.getProduct, { sku: "missing" }).catch(() => {});
    await shop.seen.handled;

    const samples = await vi.waitFor(async () => {
      const s = parse(await renderMetrics(shop.registry));
      expect(
        value(s, "flotilla_events_handled_total", {
          subscription: "notifications.onOrderPlaced",
          type: "orders.OrderPlaced",
          status: "OK",
        }),
      ).toBe(1);
      return s;
    });

    const ok = { service: "catalog", action: "getProduct", status: "OK" };
    // Server side: three successes (one from placeOrder), one failure with its status category.
    expect(value(samples, "flotilla_action_duration_seconds_count", ok)).toBe(3);
    expect(value(samples, "flotilla_action_duration_seconds_count", { ...ok, status: "NOT_FOUND" })).toBe(1);
    expect(
      value(samples, "flotilla_action_duration_seconds_count", {
        service: "inventory",
        action: "stockLevel",
        status: "NOT_FOUND",
      }),
    ).toBe(1);
    expect(
      value(samples, "flotilla_action_duration_seconds_count", { ...ok, service: "orders", action: "placeOrder" }),
    ).toBe(1);
    // Client side: every hop was a call from this process too.
    expect(value(samples, "flotilla_call_duration_seconds_count", ok)).toBe(3);
    expect(
      value(samples, "flotilla_call_duration_seconds_count", {
        service: "inventory",
        action: "stockLevel",
        status: "OK",
      }),
    ).toBe(3);
    expect(value(samples, "flotilla_call_duration_seconds_count", { ...ok, status: "NOT_FOUND" })).toBe(1);
    // Failures by code: the contract's own code, on the action that raised it and on the one it passed through.
    const unknownSku = { service: "inventory", action: "stockLevel", code: "INVENTORY_UNKNOWN_SKU" };
    expect(value(samples, "flotilla_action_errors_total", unknownSku)).toBe(1);
    expect(
      value(samples, "flotilla_action_errors_total", { ...unknownSku, service: "catalog", action: "getProduct" }),
    ).toBe(1);
    expect(value(samples, "flotilla_handlers_in_flight", { service: "catalog", kind: "action" })).toBe(0);
    // Buckets are cumulative and end in +Inf = count.
    expect(value(samples, "flotilla_action_duration_seconds_bucket", { ...ok, le: "+Inf" })).toBe(3);
    expect(value(samples, "flotilla_action_duration_seconds_sum", ok)).toBeGreaterThan(0);

    expect(value(samples, "flotilla_events_emitted_total", { type: "orders.OrderPlaced" })).toBe(1);
    expect(
      value(samples, "flotilla_event_handling_duration_seconds_count", {
        subscription: "notifications.onOrderPlaced",
        type: "orders.OrderPlaced",
        status: "OK",
      }),
    ).toBe(1);
  });

  it("records a failed event handling with the failure's status", async () => {
    const registry = new Registry();
    const host = createHost({
      services: shopServices({ actions: new Map(), events: new Map(), handled: Promise.resolve() }, () => {
        throw new Error("notification service down");
      }),
      middleware: [metrics({ registry })],
    });
    await host.start();
    try {
      await host.call(orders.placeOrder, { sku: "kettle" });
      await vi.waitFor(async () => {
        const samples = parse(await renderMetrics(registry));
        expect(
          value(samples, "flotilla_events_handled_total", {
            subscription: "notifications.onOrderPlaced",
            type: "orders.OrderPlaced",
            status: "INTERNAL",
          }),
        ).toBe(1);
        expect(
          value(samples, "flotilla_event_errors_total", {
            subscription: "notifications.onOrderPlaced",
            type: "orders.OrderPlaced",
            code: "INTERNAL",
          }),
        ).toBe(1);
      });
    } finally {
      await host.stop();
    }
  });

  it("renders from the middleware with the registry's content type, on a registry of its own", async () => {
    const m = metrics();
    expect(m.registry).toBeInstanceOf(Registry);
    expect(m.contentType).toMatch(/^text\/plain/);
    const host = createHost({
      services: shopServices({ actions: new Map(), events: new Map(), handled: Promise.resolve() }, () => {}),
      middleware: [m],
    });
    await host.start();
    try {
      await host.call(inventory.stockLevel, { sku: "kettle" });
      const text = await m.render();
      expect(text).toContain("# TYPE flotilla_action_duration_seconds histogram");
      expect(text).toContain("# TYPE flotilla_events_emitted_total counter");
      expect(
        value(parse(text), "flotilla_action_duration_seconds_count", {
          service: "inventory",
          action: "stockLevel",
          status: "OK",
        }),
      ).toBe(1);
    } finally {
      await host.stop();
    }
  });
});
