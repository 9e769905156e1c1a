import { createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "./contract.js";
import { demoProducts } from "./seed.js";
import { catalogService } from "./service.js";

const updates: unknown[] = [];
const observer = defineService(defineContract({ service: "observer" }), {
  actions: {},
  subscriptions: {
    updated: {
      event: catalog.ProductUpdated,
      handle: async (data) => {
        updates.push(data);
      },
    },
  },
});

const admin = { subject: "user-admin", roles: ["admin"] };
const customer = { subject: "user-demo", roles: ["customer"] };

describe("catalog: updating a product", () => {
  let host: Host;
  const demo = (slug: string) => demoProducts.find((p) => p.id === `prod-${slug}`)!;
  const [mug, kettle, press] = [demo("ceramic-mug"), demo("pour-over-kettle"), demo("french-press")];
  beforeAll(async () => {
    host = createHost({
      services: [catalogService, observer],
      resources: [sqliteDatabases({ dataDir: ":memory:" })],
      transport: "memory://?faithful=1",
      validateOutput: true,
    });
    await host.start();
  });
  afterAll(() => host.stop());

  it("sets the price, answers the product and emits ProductUpdated with the stock given", async () => {
    const updated = await host.call(catalog.updateProduct, { id: mug.id, price: 999, stock: 40 }, { caller: admin });
    expect(updated).toEqual({ ...mug, price: 999 });
    expect(await host.call(catalog.getProduct, { id: mug.id })).toEqual(updated);
    await expect.poll(() => updates).toContainEqual({ ...mug, price: 999, stock: 40 });
  });

  it("passes a stock alone on to inventory without touching the price", async () => {
    const updated = await host.call(catalog.updateProduct, { id: kettle.id, stock: 0 }, { caller: admin });
    expect(updated).toEqual(kettle);
    await expect.poll(() => updates).toContainEqual({ ...kettle, stock: 0 });
  });

  it("emits no stock member when only the price changed", async () => {
    await host.call(catalog.updateProduct, { id: press.id, price: 3000 });
    await expect.poll(() => updates).toContainEqual({ ...press, price: 3000 });
  });

  it("refuses callers without the admin role, unknown products and updates of nothing", async () => {
    await expect(
      host.call(catalog.updateProduct, { id: mug.id, price: 1 }, { caller: customer }),
    ).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      status: "PERMISSION_DENIED",
    });
    expect((await host.call(catalog.getProduct, { id: mug.id })).price).toBe(999);
    await expect(host.call(catalog.updateProduct, { id: "nope", price: 1 }, { caller: admin })).rejects.toMatchObject({
      code: "PRODUCT_NOT_FOUND",
      status: "NOT_FOUND",
    });
    await expect(host.call(catalog.updateProduct, { id: mug.id }, { caller: admin })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    for (const bad of [{ price: -1 }, { price: 1.5 }, { stock: -1 }, { stock: 1_000_001 }]) {
      await expect(host.call(catalog.updateProduct, { id: mug.id, ...bad }, { caller: admin })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
    }
    // None of the refused updates was announced.
    expect(updates.filter((u) => (u as { id: string }).id === "nope")).toEqual([]);
    expect(updates.filter((u) => (u as { id: string; price: number }).id === mug.id)).toHaveLength(1);
  });
});
