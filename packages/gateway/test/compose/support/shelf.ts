/** @module A small shop shelf for composite tests: products with internal fields, stock, suggestions, and actions that meet, hang or fail on demand. */
import { action, defineContract, defineService, FlotillaError } from "@flotilla/core";
import { z } from "zod";

export const shelf = defineContract({
  service: "shelf",
  actions: {
    /** Answers with fields the public must never see (`cost`, `supplier`). */
    product: action({
      input: z.object({ id: z.string().min(1).max(32) }),
      output: z.object({ id: z.string(), name: z.string(), price: z.number(), cost: z.number(), supplier: z.string() }),
    }),
    stock: action({
      input: z.object({ id: z.string(), hang: z.boolean().default(false) }),
      output: z.object({ id: z.string(), available: z.number(), warehouse: z.string() }),
    }),
    suggestions: action({
      input: z.object({ id: z.string() }),
      output: z.object({ ids: z.array(z.string()) }),
    }),
    names: action({
      input: z.object({ ids: z.array(z.string()).min(1) }),
      output: z.object({ items: z.array(z.object({ id: z.string(), name: z.string() })) }),
    }),
    /** What the call carried: the caller, the correlation and trace ids, the time left. */
    seen: action({
      input: z.object({}),
      output: z.object({
        subject: z.string().nullable(),
        correlationId: z.string(),
        traceId: z.string(),
        remainingMs: z.number(),
      }),
    }),
    /** Starts, then waits for `other` to have started: only parts running at once both answer. */
    meet: action({
      input: z.object({ me: z.string(), other: z.string() }),
      output: z.object({ met: z.string() }),
    }),
  },
  errors: { PRODUCT_NOT_FOUND: "NOT_FOUND", SHELF_BROKEN: "UNAVAILABLE" },
});

/** What the tests steer and observe: ids that hang or break, who started meeting, calls that reached the shelf. */
export class ShelfState {
  readonly started = new Set<string>();
  readonly calls: string[] = [];
  private readonly waiting = new Set<() => void>();
  private hung: Array<() => void> = [];

  arrive(name: string): void {
    this.started.add(name);
    for (const wake of this.waiting) wake();
  }

  /** Resolves once `name` started; rejects after `limitMs` (a guard, not a measurement: the test then fails). */
  waitFor(name: string, limitMs = 5_000): Promise<void> {
    if (this.started.has(name)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(wake);
        reject(FlotillaError.of({ code: "SHELF_BROKEN", status: "UNAVAILABLE" }, `${name} never started`));
      }, limitMs);
      const wake = () => {
        if (!this.started.has(name)) return;
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      this.waiting.add(wake);
    });
  }

  hang(): Promise<void> {
    return new Promise((resolve) => this.hung.push(resolve));
  }

  /** Lets every hung call finish, so the host stops without waiting for them. */
  release(): void {
    for (const r of this.hung.splice(0)) r();
  }
}

export function shelfService(state: ShelfState) {
  return defineService(shelf, {
    actions: {
      product({ id }) {
        state.calls.push(`product ${id}`);
        if (id === "missing") throw shelf.error("PRODUCT_NOT_FOUND", `no product ${id}`);
        return { id, name: `Product ${id}`, price: 1250, cost: 700, supplier: "Acme internal" };
      },
      async stock({ id, hang }) {
        state.calls.push(`stock ${id}`);
        if (hang) await state.hang();
        if (id === "broken") throw shelf.error("SHELF_BROKEN", "the stock shelf is broken");
        return { id, available: 7, warehouse: "north-3" };
      },
      suggestions({ id }) {
        state.calls.push(`suggestions ${id}`);
        return { ids: id === "lonely" ? [] : ["b", "c", "d", "e"] };
      },
      names({ ids }) {
        state.calls.push(`names ${ids.join(",")}`);
        return { items: ids.map((i) => ({ id: i, name: `Product ${i}` })) };
      },
      seen(_input, ctx) {
        return {
          subject: ctx.caller?.subject ?? null,
          correlationId: ctx.correlationId,
          traceId: ctx.trace.traceId,
          remainingMs: ctx.remainingMs(),
        };
      },
      async meet({ me, other }) {
        state.arrive(me);
        await state.waitFor(other);
        return { met: other };
      },
    },
  });
}
