import { describe, expect, it } from "vitest";
import { z } from "zod";
import { action, defineContract, event } from "../src/contract.js";

describe("contracts", () => {
  const shop = defineContract({
    service: "shop",
    version: "2.1.0",
    actions: {
      getItem: action({ input: z.object({ id: z.string() }), output: z.object({ id: z.string() }), idempotent: true }),
    },
    events: { ItemAdded: event({ schema: z.object({ id: z.string() }), version: 2 }) },
    errors: { ITEM_NOT_FOUND: "NOT_FOUND" },
  });

  it("binds refs to the service at the top level and under actions/events", () => {
    expect(shop.getItem).toBe(shop.actions.getItem);
    expect(shop.getItem).toMatchObject({
      kind: "action",
      service: "shop",
      fqn: "shop.getItem",
      version: 1,
      idempotent: true,
    });
    expect(shop.ItemAdded).toMatchObject({ kind: "event", type: "shop.ItemAdded", version: 2 });
    expect(shop.version).toBe("2.1.0");
    expect(Object.isFrozen(shop)).toBe(true);
  });

  it("creates declared domain errors with their status", () => {
    expect(shop.error("ITEM_NOT_FOUND", "no item", { id: "1" })).toMatchObject({
      code: "ITEM_NOT_FOUND",
      status: "NOT_FOUND",
      details: { id: "1" },
    });
  });

  it.each([
    [{ service: "Bad Name" }, /service name/],
    [{ service: "ok", actions: { events: action({ input: z.any(), output: z.any() }) } }, /reserved/],
    [{ service: "ok", actions: { "a.b": action({ input: z.any(), output: z.any() }) } }, /member name/],
    [
      {
        service: "ok",
        actions: { x: action({ input: z.any(), output: z.any() }) },
        events: { x: event({ schema: z.any() }) },
      },
      /twice/,
    ],
  ])("rejects invalid definitions (%#)", (def, message) => {
    expect(() => defineContract(def as Parameters<typeof defineContract>[0])).toThrow(message);
  });
});
