/** @module A small service for cache tests: items whose reads it counts, a gate to hold reads in flight, and a change event. */
import { action, defineContract, defineService, event } from "@flotilla/core";
import { z } from "zod";
import type { Policy } from "../../src/index.js";

const Item = z.object({ id: z.string(), price: z.number(), for: z.string().nullable(), tier: z.string().nullable() });

export const shelf = defineContract({
  service: "shelf",
  actions: {
    item: action({ input: z.object({ id: z.string().min(1).max(64) }), output: Item, idempotent: true }),
    list: action({
      input: z.object({ limit: z.coerce.number().int().min(1).max(50).default(10) }),
      output: z.object({ items: z.array(Item) }),
      idempotent: true,
    }),
    /** An answer of `size` bytes or so, to fill the cache. */
    blob: action({
      input: z.object({ id: z.string(), size: z.coerce.number().int().min(1).max(2_000_000) }),
      output: z.object({ id: z.string(), data: z.string() }),
      idempotent: true,
    }),
    nothing: action({ input: z.object({}), output: z.undefined(), idempotent: true }),
    setPrice: action({ input: z.object({ id: z.string(), price: z.number() }), output: Item }),
  },
  events: { PriceChanged: event({ schema: z.object({ id: z.string(), price: z.number() }) }) },
  errors: { ITEM_NOT_FOUND: "NOT_FOUND" },
});

/** What the service was asked: reads per key, and a gate that holds reads until opened. */
export class ShelfState {
  readonly prices = new Map<string, number>([
    ["a", 10],
    ["b", 20],
  ]);
  readonly reads = new Map<string, number>();
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  readsOf(key: string): number {
    return this.reads.get(key) ?? 0;
  }

  /** Reads wait until `open()` from now on. */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  open(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async read(key: string): Promise<void> {
    this.reads.set(key, this.readsOf(key) + 1);
    if (this.gate !== undefined) await this.gate;
  }
}

export function shelfService(state: ShelfState) {
  return defineService(shelf, {
    actions: {
      async item({ id }, ctx) {
        await state.read(`item:${id}`);
        const price = state.prices.get(id);
        if (price === undefined) throw shelf.error("ITEM_NOT_FOUND", `no item ${id}`);
        return { id, price, for: ctx.caller?.subject ?? null, tier: ctx.caller?.tier ?? null };
      },
      async list({ limit }) {
        await state.read("list");
        const items = [...state.prices].map(([id, price]) => ({ id, price, for: null, tier: null }));
        return { items: items.slice(0, limit) };
      },
      async blob({ id, size }) {
        await state.read(`blob:${id}`);
        return { id, data: "x".repeat(size) };
      },
      async nothing() {
        await state.read("nothing");
      },
      async setPrice({ id, price }, ctx) {
        state.prices.set(id, price);
        await ctx.emit(shelf.PriceChanged, { id, price });
        return { id, price, for: null, tier: null };
      },
    },
  });
}

/** The caller named by `x-user` (with `x-tier`): these tests are about caching, not about tokens. */
export const userHeader: Policy = {
  name: "user-header",
  onRequest(exchange) {
    const user = exchange.request.headers["x-user"];
    const tier = exchange.request.headers["x-tier"];
    if (typeof user === "string") {
      exchange.caller = { subject: user, roles: [], ...(typeof tier === "string" ? { tier } : {}) };
    }
  },
};
