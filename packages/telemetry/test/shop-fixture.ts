/** A three-hop call chain (orders → catalog → inventory) and an event (orders.OrderPlaced → notifications). */
import { Writable } from "node:stream";
import { action, type Context, createHost, defineContract, defineService, event, type Host } from "@flotilla/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { Registry } from "prom-client";
import { z } from "zod";
import { metrics, tracing } from "../src/index.js";

export const inventory = defineContract({
  service: "inventory",
  actions: {
    stockLevel: action({
      input: z.object({ sku: z.string() }),
      output: z.object({ sku: z.string(), available: z.number() }),
    }),
  },
  errors: { INVENTORY_UNKNOWN_SKU: "NOT_FOUND" },
});

export const catalog = defineContract({
  service: "catalog",
  actions: {
    getProduct: action({
      input: z.object({ sku: z.string() }),
      output: z.object({ sku: z.string(), name: z.string(), available: z.number() }),
    }),
  },
});

export const orders = defineContract({
  service: "orders",
  actions: {
    placeOrder: action({ input: z.object({ sku: z.string() }), output: z.object({ orderId: z.string() }) }),
  },
  events: { OrderPlaced: event({ schema: z.object({ orderId: z.string(), sku: z.string() }) }) },
});

/** What the handlers saw, for assertions: each context's trace as the handler found it. */
export interface Seen {
  actions: Map<string, Context["trace"]>;
  events: Map<string, Context["trace"]>;
  handled: Promise<void>;
}

export function shopServices(seen: Seen, onHandled: () => void) {
  return [
    defineService(inventory, {
      actions: {
        stockLevel({ sku }, ctx) {
          seen.actions.set("inventory.stockLevel", ctx.trace);
          ctx.log.info({ sku }, "stock checked");
          if (sku === "missing") throw inventory.error("INVENTORY_UNKNOWN_SKU", `no stock record for ${sku}`);
          if (sku === "crash") throw new Error("the shelf fell over");
          return { sku, available: 3 };
        },
      },
    }),
    defineService(catalog, {
      actions: {
        async getProduct({ sku }, ctx) {
          seen.actions.set("catalog.getProduct", ctx.trace);
          const stock = await ctx.call(inventory.stockLevel, { sku });
          return { sku, name: `Product ${sku}`, available: stock.available };
        },
      },
    }),
    defineService(orders, {
      actions: {
        async placeOrder({ sku }, ctx) {
          seen.actions.set("orders.placeOrder", ctx.trace);
          await ctx.call(catalog.getProduct, { sku });
          const orderId = `order-${sku}`;
          await ctx.emit(orders.OrderPlaced, { orderId, sku });
          return { orderId };
        },
      },
    }),
    defineService(defineContract({ service: "notifications" }), {
      actions: {},
      subscriptions: {
        onOrderPlaced: {
          event: orders.OrderPlaced,
          maxDeliveries: 1,
          async handle(data, ctx) {
            seen.events.set(data.orderId, ctx.trace);
            ctx.log.info({ orderId: data.orderId }, "order noted");
            onHandled();
          },
        },
      },
    }),
  ];
}

export interface Shop {
  host: Host;
  exporter: InMemorySpanExporter;
  provider: BasicTracerProvider;
  registry: Registry;
  seen: Seen;
  /** Parsed JSON log lines written so far. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startShop(): Promise<Shop> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const registry = new Registry();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  let onHandled: () => void = () => {};
  const seen: Seen = {
    actions: new Map(),
    events: new Map(),
    handled: new Promise<void>((resolve) => (onHandled = resolve)),
  };
  const host = createHost({
    services: shopServices(seen, () => onHandled()),
    middleware: [tracing({ tracerProvider: provider }), metrics({ registry })],
    // Faithful: trace context crosses as headers, as between processes.
    transport: "memory://?faithful=1",
    logger: pino({ level: "info" }, sink),
  });
  await host.start();
  return {
    host,
    exporter,
    provider,
    registry,
    seen,
    logs,
    async stop() {
      await host.stop();
      await provider.shutdown();
    },
  };
}
