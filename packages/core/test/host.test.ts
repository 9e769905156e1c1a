import { describe, expect, it } from "vitest";
import { z } from "zod";
import { action, defineContract, event } from "../src/contract.js";
import { createHost } from "../src/host.js";
import type { Middleware } from "../src/middleware.js";
import type { OutboundMessage, OutboundSink } from "../src/outbound-sink.js";
import { defineService } from "../src/service.js";
import { formatTraceparent, newTraceContext } from "../src/trace-context.js";
import type { EventEnvelope } from "../src/transport/envelope.js";
import { MemoryTransport } from "../src/transport/memory-transport.js";

const box = defineContract({
  service: "box",
  actions: {
    put: action({ input: z.object({ items: z.array(z.string()) }), output: z.object({ items: z.array(z.string()) }) }),
    emitForeign: action({ input: z.object({}), output: z.object({}) }),
    bad: action({ input: z.object({}), output: z.object({ n: z.number() }) }),
  },
  events: { Put: event({ schema: z.object({ n: z.number() }) }) },
});
const other = defineContract({ service: "other", events: { Thing: event({ schema: z.object({}) }) } });

const kept: unknown[] = [];
const boxService = defineService(box, {
  actions: {
    put: async (input) => {
      kept.push(input);
      return input;
    },
    emitForeign: async (_input, ctx) => {
      await ctx.emit(other.Thing, {});
      return {};
    },
    bad: async () => ({ n: "not a number" }) as unknown as { n: number },
  },
});

describe("host", () => {
  it("isolates caller and callee objects in wire-faithful mode", async () => {
    const host = createHost({ services: [boxService], transport: "memory://?faithful=1" });
    await host.start();
    const input = { items: ["a"] };
    const out = await host.call(box.put, input);
    out.items.push("changed by caller");
    input.items.push("changed too");
    expect(kept.at(-1)).toEqual({ items: ["a"] });
    await host.stop();
  });

  it("lets a service emit only its own events", async () => {
    const host = createHost({ services: [boxService] });
    await host.start();
    await expect(host.call(box.emitForeign, {})).rejects.toMatchObject({ code: "FLOTILLA_CONFIG" });
    await expect(host.context().emit(box.Put, { n: 1 })).rejects.toMatchObject({ code: "FLOTILLA_CONFIG" });
    await host.stop();
  });

  it("checks outputs against the contract when asked", async () => {
    const host = createHost({ services: [boxService], validateOutput: true });
    await host.start();
    await expect(host.call(box.bad, {})).rejects.toMatchObject({ code: "FLOTILLA_INVALID_OUTPUT", status: "INTERNAL" });
    await host.stop();
  });

  it("runs middleware around calls and actions in order", async () => {
    const order: string[] = [];
    const mw = (name: string): Middleware => ({
      name,
      call: async (_call, next) => {
        order.push(`${name}:call`);
        return next();
      },
      action: async (_inv, next) => {
        order.push(`${name}:action`);
        return next();
      },
    });
    const host = createHost({ services: [boxService], middleware: [mw("outer"), mw("inner")] });
    await host.start();
    await host.call(box.put, { items: [] });
    expect(order).toEqual(["outer:call", "inner:call", "outer:action", "inner:action"]);
    await host.stop();
  });

  it("rejects a service listed twice and undefined actions", () => {
    expect(() => createHost({ services: [boxService, boxService] })).toThrow(/twice/);
    expect(() => defineService(box, { actions: {} } as never)).toThrow(/no implementation/);
  });

  it("cleans up when a service fails to start, and does not own a transport it was given", async () => {
    const transport = new MemoryTransport();
    await transport.connect();
    const failing = defineService(other, {
      actions: {},
      start: async () => {
        throw new Error("cannot start");
      },
    });
    const host = createHost({ services: [boxService, failing], transport });
    await expect(host.start()).rejects.toThrow("cannot start");
    expect(await transport.isAvailable("box")).toBe(false);
    expect(await host.isReady()).toBe(false);
    await transport.close();
  });

  it("runs stop hooks only for services that started", async () => {
    const stopped: string[] = [];
    const first = defineService(box, {
      actions: boxService.actions as never,
      stop: async () => {
        stopped.push("box");
      },
    });
    const failing = defineService(other, {
      actions: {},
      start: async () => {
        throw new Error("cannot start");
      },
      stop: async () => {
        stopped.push("other");
      },
    });
    await expect(createHost({ services: [first, failing] }).start()).rejects.toThrow("cannot start");
    expect(stopped).toEqual(["box"]);
  });

  it("runs a resource's middleware around its own service's emits only", async () => {
    const seen: string[] = [];
    const tap: Middleware = {
      name: "tap",
      emit: async (e, next) => {
        seen.push(`emit ${e.ref.type}`);
        return next();
      },
      call: async (c, next) => {
        seen.push(`call ${c.ref.fqn}`);
        return next();
      },
    };
    // The edge call below belongs to no service, so the tap must not see it.
    const provider = {
      kind: "database",
      open: async () => ({ value: "db", middleware: [tap], close: async () => {} }),
    };
    const emitter = defineService(other, {
      database: { kind: "database" },
      actions: {},
      start: async (ctx) => {
        await ctx.emit(other.Thing, {});
      },
    });
    const host = createHost({ services: [boxService, emitter], resources: [provider] });
    await host.start();
    await host.call(box.put, { items: [] });
    expect(seen).toEqual(["emit other.Thing"]);
    await host.stop();
  });

  it("sends a service's events after its middleware to the sink its resource provides, not the transport", async () => {
    const transport = new MemoryTransport();
    await transport.connect();
    const published: EventEnvelope[] = [];
    const direct = await transport.subscribe(
      { types: [other.Thing.type], instance: "t", maxInFlight: 1, maxDeliveries: 1, backoffMs: () => 0 },
      async (e) => {
        published.push(e);
      },
    );
    const stored: OutboundMessage[] = [];
    const sink: OutboundSink = {
      name: "test-store",
      send: async (message) => {
        stored.push(message);
      },
    };
    const producer = newTraceContext();
    const stamp: Middleware = {
      name: "stamp",
      emit: (e, next) => {
        e.trace = producer;
        e.headers = { "x-stamp": "1" };
        return next();
      },
    };
    const provider = {
      kind: "database",
      open: async () => ({ value: "db", sink, close: async () => {} }),
    };
    const emitter = defineService(other, {
      database: { kind: "database" },
      actions: {},
      start: (ctx) => ctx.emit(other.Thing, {}),
    });
    const host = createHost({ services: [emitter], transport, resources: [provider], middleware: [stamp] });
    await host.start();
    expect(stored).toHaveLength(1);
    const envelope = stored[0]?.envelope;
    expect(stored[0]?.kind).toBe("event");
    expect(envelope).toMatchObject({ type: "other.Thing", source: "other", data: {} });
    expect(envelope?.headers).toMatchObject({ traceparent: formatTraceparent(producer), "x-stamp": "1" });
    // The sink took the event: the transport never saw it (a later one, published directly, arrives).
    await transport.publish({ ...(envelope as EventEnvelope), id: "sentinel" });
    await until(() => published.length > 0);
    expect(published.map((e) => e.id)).toEqual(["sentinel"]);
    await direct.close();
    await host.stop();
    await transport.close();
  });

  it("reports readiness from service hooks", async () => {
    let ready = false;
    const svc = defineService(other, { actions: {}, ready: () => ready });
    const host = createHost({ services: [svc] });
    expect(await host.isReady()).toBe(false);
    await host.start();
    expect(await host.isReady()).toBe(false);
    ready = true;
    expect(await host.isReady()).toBe(true);
    await host.stop();
    expect(await host.isReady()).toBe(false);
  });
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}
