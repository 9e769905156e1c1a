import { describe, expect, it } from "vitest";
import { z } from "zod";
import { action, defineContract } from "../src/contract.js";
import { createHost } from "../src/host.js";
import { defineService } from "../src/service.js";

const Empty = z.object({});
const prices = defineContract({
  service: "prices",
  actions: {
    quote: action({ input: Empty, output: z.object({ price: z.number() }) }),
    reprice: action({ input: Empty, output: Empty }),
  },
});
const orders = defineContract({
  service: "orders",
  actions: {
    place: action({ input: Empty, output: z.object({ price: z.number() }) }),
    sneak: action({ input: Empty, output: Empty }),
    self: action({ input: Empty, output: z.object({ price: z.number() }) }),
  },
});

const pricesService = defineService(prices, {
  actions: { quote: () => ({ price: 7 }), reprice: () => ({}) },
});

function ordersService(calls: readonly (typeof prices.quote)[] | undefined) {
  return defineService(orders, {
    ...(calls === undefined ? {} : { calls }),
    actions: {
      place: (_input, ctx) => ctx.call(prices.quote, {}),
      sneak: (_input, ctx) => ctx.call(prices.reprice, {}),
      self: (_input, ctx) => ctx.call(orders.place, {}),
    },
  });
}

describe("declared calls", () => {
  it("lets a service call what it declares, and its own actions", async () => {
    const host = createHost({ services: [pricesService, ordersService([prices.quote])] });
    await host.start();
    await expect(host.call(orders.place, {})).resolves.toEqual({ price: 7 });
    await expect(host.call(orders.self, {})).resolves.toEqual({ price: 7 });
    await host.stop();
  });

  it("refuses a call to an action it did not declare, without sending it", async () => {
    const host = createHost({ services: [pricesService, ordersService([prices.quote])] });
    await host.start();
    const refused = host.call(orders.sneak, {});
    await expect(refused).rejects.toMatchObject({
      code: "FLOTILLA_CALL_NOT_DECLARED",
      status: "INTERNAL",
      details: { service: "orders", action: "prices.reprice" },
    });
    await host.stop();
  });

  it("refuses every other service's action when it declares none", async () => {
    const host = createHost({ services: [pricesService, ordersService([])] });
    await host.start();
    await expect(host.call(orders.place, {})).rejects.toMatchObject({ code: "FLOTILLA_CALL_NOT_DECLARED" });
    await expect(host.call(orders.self, {})).rejects.toMatchObject({ code: "FLOTILLA_CALL_NOT_DECLARED" });
    await host.stop();
  });

  it("lets a service that declares nothing call anything", async () => {
    const host = createHost({ services: [pricesService, ordersService(undefined)] });
    await host.start();
    await expect(host.call(orders.sneak, {})).resolves.toEqual({});
    expect(ordersService(undefined).calls).toBeUndefined();
    expect(ordersService([prices.quote, prices.quote]).calls).toEqual(["prices.quote"]);
    await host.stop();
  });
});
