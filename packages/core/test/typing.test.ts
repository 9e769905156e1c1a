import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import type { Context } from "../src/context.js";
import { action, defineContract, event } from "../src/contract.js";
import { defineService } from "../src/service.js";

// These checks run in `npm run typecheck`: a wrong call or handler must not compile.
const shop = defineContract({
  service: "shop",
  actions: {
    getItem: action({ input: z.object({ id: z.string() }), output: z.object({ id: z.string(), price: z.number() }) }),
  },
  events: { ItemSold: event({ schema: z.object({ id: z.string() }) }) },
});

describe("contract typing", () => {
  it("types calls from the contract", () => {
    const call = (ctx: Context) => ctx.call(shop.getItem, { id: "a" });
    expectTypeOf(call).returns.resolves.toEqualTypeOf<{ id: string; price: number }>();
    const wrong = (ctx: Context) => {
      // @ts-expect-error the input lacks `id`
      void ctx.call(shop.getItem, { name: "a" });
      // @ts-expect-error `id` must be a string
      void ctx.call(shop.getItem, { id: 1 });
      // @ts-expect-error events are emitted with their schema's shape
      void ctx.emit(shop.ItemSold, { sku: "a" });
    };
    expectTypeOf(wrong).toBeFunction();
  });

  it("checks implementations against the contract", () => {
    defineService(shop, { actions: { getItem: async ({ id }) => ({ id, price: 1 }) } });
    // @ts-expect-error the output lacks `price`
    defineService(shop, { actions: { getItem: async ({ id }) => ({ id }) } });
    expect(() =>
      // @ts-expect-error an action the contract does not declare (refused at run time too)
      defineService(shop, { actions: { getItem: async ({ id }) => ({ id, price: 1 }), extra: async () => ({}) } }),
    ).toThrow(/not an action/);
  });
});
