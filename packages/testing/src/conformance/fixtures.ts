/** @module Contracts and services the transport conformance suite runs over every transport. */
import { action, type Context, defineContract, defineService, event, FlotillaError } from "@flotilla/core";
import { z } from "zod";
import { sleep } from "../wait-for.js";

export const echo = defineContract({
  service: "echo",
  actions: {
    echo: action({
      input: z.object({ text: z.string().min(1), n: z.number().int().optional() }),
      output: z.object({ text: z.string(), instance: z.string() }),
    }),
    sleep: action({
      input: z.object({ ms: z.number().int().min(0) }),
      output: z.object({ remainingMs: z.number(), instance: z.string() }),
    }),
    fail: action({ input: z.object({ kind: z.enum(["domain", "plain", "nested"]) }), output: z.object({}) }),
    relay: action({ input: z.object({ ms: z.number().int() }), output: z.object({ remainingMs: z.number() }) }),
    publish: action({
      input: z.object({ seq: z.number().int(), tag: z.string(), poison: z.boolean().optional() }),
      output: z.object({}),
    }),
    blob: action({ input: z.object({ size: z.number().int() }), output: z.object({ data: z.string() }) }),
  },
  events: {
    Ticked: event({ schema: z.object({ seq: z.number().int(), tag: z.string() }) }),
  },
  errors: { ECHO_REFUSED: "FAILED_PRECONDITION" },
});

export const relay = defineContract({
  service: "relay",
  actions: {
    forward: action({ input: z.object({ ms: z.number().int() }), output: z.object({ remainingMs: z.number() }) }),
  },
});

/** Shared mutable observations of one test; each test makes its own. */
export interface Probe {
  running: number;
  maxRunning: number;
  finished: number;
  handled: Array<{ instance: string; seq: number; tag: string; attempt: number }>;
  /** What each handler knew of the work's origin: trace, correlation and baggage. */
  origins: Array<{ where: string; traceId: string; correlationId: string; baggage: string | undefined }>;
}

export const newProbe = (): Probe => ({ running: 0, maxRunning: 0, finished: 0, handled: [], origins: [] });

function noteOrigin(probe: Probe, where: string, ctx: Context): void {
  probe.origins.push({ where, traceId: ctx.trace.traceId, correlationId: ctx.correlationId, baggage: ctx.baggage });
}

async function tracked<T>(probe: Probe, fn: () => Promise<T>): Promise<T> {
  probe.running++;
  probe.maxRunning = Math.max(probe.maxRunning, probe.running);
  try {
    return await fn();
  } finally {
    probe.running--;
    probe.finished++;
  }
}

const who = (ctx: Context) => ctx.instance ?? "?";

export function echoService(probe: Probe, opts: { maxInFlight?: number; maxQueued?: number } = {}) {
  return defineService(echo, {
    ...opts,
    actions: {
      echo: async ({ text }, ctx) => ({ text, instance: who(ctx) }),
      sleep: ({ ms }, ctx) =>
        tracked(probe, async () => {
          const remainingMs = ctx.remainingMs();
          await sleep(ms);
          return { remainingMs, instance: who(ctx) };
        }),
      fail: async ({ kind }) => {
        if (kind === "domain") throw echo.error("ECHO_REFUSED", "refused on purpose", { reason: "test" });
        if (kind === "plain") throw new TypeError("boom");
        throw new FlotillaError("UNAVAILABLE", "outer", { cause: new FlotillaError("NOT_FOUND", "inner") });
      },
      relay: async ({ ms }, ctx) => ctx.call(relay.forward, { ms }),
      publish: async ({ seq, tag }, ctx) => {
        await ctx.emit(echo.Ticked, { seq, tag });
        return {};
      },
      blob: async ({ size }) => ({ data: "x".repeat(size) }),
    },
  });
}

export function relayService(probe: Probe) {
  return defineService(relay, {
    actions: {
      forward: ({ ms }, ctx) =>
        tracked(probe, async () => {
          noteOrigin(probe, "forward", ctx);
          const remainingMs = ctx.remainingMs();
          await sleep(ms);
          return { remainingMs };
        }),
    },
  });
}

export const listener = defineContract({ service: "listener", actions: {} });

export type ListenerBehaviour = (data: { seq: number; tag: string }, attempt: number) => Promise<void>;

export function listenerService(
  probe: Probe,
  opts: { broadcast?: boolean; maxInFlight?: number; maxDeliveries?: number; behaviour?: ListenerBehaviour } = {},
) {
  const { behaviour, ...subOpts } = opts;
  return defineService(listener, {
    actions: {},
    subscriptions: {
      ticks: {
        event: echo.Ticked,
        ...subOpts,
        handle: (data, ctx, meta) =>
          tracked(probe, async () => {
            noteOrigin(probe, "ticks", ctx);
            await behaviour?.(data, meta.delivery.attempt);
            probe.handled.push({ instance: who(ctx), seq: data.seq, tag: data.tag, attempt: meta.delivery.attempt });
          }),
      },
    },
  });
}
