import { createHost, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "./contract.js";
import { demoProducts } from "./seed.js";
import { catalogService } from "./service.js";

describe("catalog service", () => {
  let host: Host;
  beforeAll(async () => {
    host = createHost({
      services: [catalogService],
      resources: [sqliteDatabases({ dataDir: ":memory:" })],
      transport: "memory://?faithful=1",
      validateOutput: true,
    });
    await host.start();
  });
  afterAll(() => host.stop());

  it("seeds the demo catalog and pages through it with cursors", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await host.call(catalog.listProducts, { limit: 7, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(demoProducts.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
  });

  it("searches name and description case-insensitively, treating wildcards literally", async () => {
    const coffee = await host.call(catalog.listProducts, { q: "COFFEE", limit: 100 });
    expect(coffee.items.length).toBeGreaterThan(3);
    for (const p of coffee.items) expect(`${p.name} ${p.description}`.toLowerCase()).toContain("coffee");
    expect((await host.call(catalog.listProducts, { q: "%" })).items).toHaveLength(0);
    expect((await host.call(catalog.listProducts, { q: "_" })).items).toHaveLength(0);
    expect((await host.call(catalog.listProducts, { q: "no such thing" })).items).toHaveLength(0);
  });

  it("returns one product or PRODUCT_NOT_FOUND", async () => {
    const first = demoProducts[0]!;
    expect(await host.call(catalog.getProduct, { id: first.id })).toEqual(first);
    await expect(host.call(catalog.getProduct, { id: "nope" })).rejects.toMatchObject({
      code: "PRODUCT_NOT_FOUND",
      status: "NOT_FOUND",
    });
  });

  it("names every unknown id in a batch lookup", async () => {
    const err = host.call(catalog.getProducts, { ids: [demoProducts[1]!.id, "x1", "x2"] });
    await expect(err).rejects.toMatchObject({ code: "PRODUCT_NOT_FOUND", details: { ids: ["x1", "x2"] } });
  });

  it("rejects bad cursors and limits at the boundary", async () => {
    await expect(host.call(catalog.listProducts, { cursor: "garbage" })).rejects.toMatchObject({
      code: "INVALID_CURSOR",
      status: "INVALID_ARGUMENT",
    });
    await expect(host.call(catalog.listProducts, { limit: 1000 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
