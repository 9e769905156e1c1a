/** @module Routes over a real socket: inputs, statuses, headers, JSON answers and route typing. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { route } from "../src/index.js";
import { postJson, seenBy, startGateway, type TestGateway } from "./support/harness.js";
import { catalog, probe } from "./support/services.js";

describe("routes over a real socket", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway();
  });
  afterAll(() => t.stop());

  it("answers an action's output as JSON", async () => {
    const res = await fetch(`${t.url}/api/v1/products/p1`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await res.json()).toEqual({ id: "p1", name: "Teapot", price: 12.5 });
  });

  it("passes the query as GET input, where the contract coerces it", async () => {
    const res = await fetch(`${t.url}/api/v1/products?q=Tea&limit=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [{ id: "p1", name: "Teapot", price: 12.5 }] });
  });

  it("merges path params over the query in the default GET input", async () => {
    const res = await fetch(`${t.url}/inspect/abc?x=1&id=evil`);
    expect((await seenBy(res)).input).toEqual({ x: "1", id: "abc" });
  });

  it("answers 201 with a Location header built from the output", async () => {
    const res = await postJson(`${t.url}/api/v1/products`, { name: "Cup", price: 3 });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string };
    expect(res.headers.get("location")).toBe(`/api/v1/products/${body.id}`);
    expect((await fetch(`${t.url}${res.headers.get("location")}`)).status).toBe(200);
  });

  it("answers 204 when the action returns nothing, and the route's status (202) otherwise", async () => {
    const none = await fetch(`${t.url}/nothing`, { method: "DELETE" });
    expect(none.status).toBe(204);
    expect(await none.text()).toBe("");
    const accepted = await postJson(`${t.url}/accepted`, {});
    expect(accepted.status).toBe(202);
    expect(await accepted.text()).toBe("");
  });

  it("sends a string output as a JSON string", async () => {
    const res = await fetch(`${t.url}/text`);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toBe("just a string");
  });

  it("refuses an accepted route that declares another status, with FLOTILLA_CONFIG", () => {
    const declare = () =>
      route({ method: "POST", path: "/later", action: probe.inspect, status: 200, accepted: { location: () => "/x" } });
    expect(declare).toThrow(/an accepted route answers 202, not 200/);
    expect(declare).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
  });

  it("types path parameters and the input from the path and the action", () => {
    route({
      method: "GET",
      path: "/a/:x/b/:y",
      action: probe.inspect,
      input: (req) => ({ x: req.params.x, y: req.params.y }),
    });
    // @ts-expect-error: the path has no parameter z
    route({ method: "GET", path: "/a/:x", action: probe.inspect, input: (req) => ({ z: req.params.z }) });
    route({
      method: "GET",
      path: "/p/:id",
      action: catalog.getProduct,
      // @ts-expect-error: getProduct takes { id: string }
      input: (req) => ({ id: Number(req.params.id) }),
    });
  });
});
