/** @module Test contracts and services (a small catalog, and a probe that reports or misbehaves), and their routes. */
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { action, defineContract, defineService, FlotillaError, STATUS } from "@flotilla/core";
import { z } from "zod";
import { type Route, route } from "../../src/index.js";

const Product = z.object({ id: z.string(), name: z.string(), price: z.number() });

export const catalog = defineContract({
  service: "catalog",
  actions: {
    getProduct: action({ input: z.object({ id: z.string().min(1).max(64) }), output: Product }),
    listProducts: action({
      input: z.object({ q: z.string().optional(), limit: z.coerce.number().int().min(1).max(50).default(10) }),
      output: z.object({ items: z.array(Product) }),
    }),
    createProduct: action({
      input: z.object({ name: z.string().min(1), price: z.number().positive() }),
      output: Product,
    }),
  },
  errors: { PRODUCT_NOT_FOUND: "NOT_FOUND" },
});

/** Actions that report what they saw, fail on demand, or misbehave. */
export const probe = defineContract({
  service: "probe",
  actions: {
    inspect: action({ input: z.record(z.string(), z.unknown()), output: z.record(z.string(), z.unknown()) }),
    fail: action({
      input: z.object({
        status: z.enum(STATUS),
        code: z.string().optional(),
        message: z.string().optional(),
        details: z.unknown().optional(),
      }),
      output: z.never(),
    }),
    crash: action({ input: z.unknown(), output: z.never() }),
    nothing: action({ input: z.unknown(), output: z.undefined() }),
    text: action({ input: z.unknown(), output: z.string() }),
    slow: action({ input: z.object({ ms: z.coerce.number() }), output: z.object({ slept: z.number() }) }),
    /** Strict input; counts the calls that reach it (see `reached`). */
    strict: action({
      input: z.object({ n: z.coerce.number().int().min(0).max(10), tag: z.string().max(8).default("none") }),
      output: z.object({ n: z.number(), tag: z.string() }),
    }),
    /** Stands for a route only administrators may reach; counts the calls that reach it. */
    admin: action({ input: z.unknown(), output: z.object({ admin: z.literal(true) }) }),
  },
});

/** Calls that reached the probe's counting actions: what the gateway let through. */
export const reached = { strict: 0, admin: 0 };

/** Routed to, but never started: readiness must report it. */
export const ghost = defineContract({
  service: "ghost",
  actions: { haunt: action({ input: z.unknown(), output: z.unknown() }) },
});

/** Emits "slow" when the slow action starts, so tests can act while it is in flight. */
export const started = new EventEmitter();

const products = new Map([["p1", { id: "p1", name: "Teapot", price: 12.5 }]]);

export const catalogService = defineService(catalog, {
  actions: {
    getProduct: ({ id }) => {
      const product = products.get(id);
      if (product === undefined) throw catalog.error("PRODUCT_NOT_FOUND", `no product ${id}`, { id });
      return product;
    },
    listProducts: ({ q, limit }) => ({
      items: [...products.values()].filter((p) => q === undefined || p.name.includes(q)).slice(0, limit),
    }),
    createProduct: (input) => {
      const product = { id: `p${products.size + 1}`, ...input };
      products.set(product.id, product);
      return product;
    },
  },
});

export const probeService = defineService(probe, {
  actions: {
    inspect: (input, ctx) => ({
      input,
      traceId: ctx.trace.traceId,
      parentSpanId: ctx.trace.spanId,
      tracestate: ctx.trace.tracestate ?? null,
      baggage: ctx.baggage ?? null,
      correlationId: ctx.correlationId,
      caller: ctx.caller ?? null,
      remainingMs: ctx.remainingMs(),
    }),
    fail: ({ status, code, message, details }) => {
      throw new FlotillaError(code ?? status, message ?? `failed with ${status}`, { status, details });
    },
    crash: () => {
      throw new Error("password=hunter2 leaked from the database driver");
    },
    nothing: () => undefined,
    text: () => "just a string",
    slow: async ({ ms }, ctx) => {
      started.emit("slow");
      await sleep(Math.min(ms, ctx.remainingMs() + 50));
      started.emit("slow-done");
      return { slept: ms };
    },
    strict: (input) => {
      reached.strict++;
      return input;
    },
    admin: () => {
      reached.admin++;
      return { admin: true as const };
    },
  },
});

export const testRoutes: Route[] = [
  route({ method: "GET", path: "/api/v1/products", action: catalog.listProducts }),
  route({
    method: "GET",
    path: "/api/v1/products/:id",
    action: catalog.getProduct,
    input: (req) => ({ id: req.params.id }),
  }),
  route({
    method: "POST",
    path: "/api/v1/products",
    action: catalog.createProduct,
    status: 201,
    headers: (product) => ({ location: `/api/v1/products/${product.id}` }),
  }),
  route({ method: "GET", path: "/inspect/:id", action: probe.inspect }),
  route({ method: "POST", path: "/inspect", action: probe.inspect }),
  route({ method: "POST", path: "/fail", action: probe.fail }),
  route({ method: "GET", path: "/crash", action: probe.crash, input: () => ({}) }),
  route({ method: "DELETE", path: "/nothing", action: probe.nothing }),
  route({ method: "POST", path: "/accepted", action: probe.nothing, status: 202 }),
  route({ method: "GET", path: "/text", action: probe.text }),
  route({ method: "GET", path: "/slow", action: probe.slow, timeoutMs: 100 }),
];
