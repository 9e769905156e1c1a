/** @module Route splits over real HTTP: matches, sticky weights, admin routes, shadow comparisons, deprecation headers. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketOf } from "../../src/index.js";
import { expectError } from "../support/harness.js";
import { type SplitGateway, startSplitGateway, until } from "./support.js";

describe("route split", () => {
  let t: SplitGateway;
  let admin: Record<string, string>;
  beforeAll(async () => {
    t = await startSplitGateway();
    admin = await t.bearer({ sub: "root", roles: ["admin"] });
  });
  afterAll(async () => t?.stop());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${t.url}${path}`, { headers });
  const put = (split: string, rules: unknown, headers = admin) =>
    fetch(`${t.url}/_flotilla/traffic/${split}`, {
      method: "PUT",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(rules),
    });
  const variantOf = async (headers: Record<string, string> = {}) => {
    const res = await get("/api/v1/products/p1", headers);
    expect(res.status).toBe(200);
    return res.headers.get("flotilla-variant");
  };

  it("serves the default variant, names it, and says the route is deprecated", async () => {
    const res = await get("/api/v1/products/p1");
    expect(res.status).toBe(200);
    expect(res.headers.get("flotilla-variant")).toBe("legacy");
    expect(res.headers.get("deprecation")).toBe(`@${Date.parse("2026-01-01T00:00:00Z") / 1000}`);
    expect(res.headers.get("sunset")).toBe("Fri, 01 Jan 2027 00:00:00 GMT");
    expect(res.headers.get("link")).toBe('<https://shop.example/api-v2>; rel="deprecation"');
    expect(await res.json()).toEqual({ id: "p1", name: "Teapot", price: 12.5 });
    const server = t.spans.find((s) => s.attributes["flotilla.split"] === "products");
    expect(server?.attributes["flotilla.variant"]).toBe("legacy");
  });

  it("keeps the admin routes to admins and refuses bad rules field by field", async () => {
    await expectError(await get("/_flotilla/traffic"), 401, "UNAUTHENTICATED");
    await expectError(
      await get("/_flotilla/traffic", await t.bearer({ roles: ["customer"] })),
      403,
      "PERMISSION_DENIED",
    );
    await expectError(
      await put("products", { weights: { legacy: 100 } }, await t.bearer({})),
      403,
      "PERMISSION_DENIED",
    );
    await expectError(await put("nothing", { weights: { legacy: 100 } }), 404, "NOT_FOUND");
    const bad = await expectError(
      await put("products", { weights: { legacy: 60, canary: 30 }, sticky: "maybe", match: [{ tenant: "acme" }] }),
      400,
      "INVALID_ARGUMENT",
    );
    const paths = (bad.details as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["weights.canary", "weights", "sticky", "match.0.variant"]));
    const list = await get("/_flotilla/traffic", admin);
    expect(list.status).toBe(200);
    const body = (await list.json()) as { splits: { name: string; origin: string; version: number }[] };
    expect(body.splits).toEqual([expect.objectContaining({ name: "products", origin: "code", version: 0 })]);
  });

  it("sends matches to their variant and keeps each user on one variant as a weight grows", async () => {
    const rules = (service: number) => ({
      weights: { legacy: 100 - service, service },
      match: [
        { header: "x-canary", value: "1", variant: "service" },
        { tenant: "acme", variant: "service" },
        { user: "vip", variant: "service" },
      ],
      sticky: "user",
    });
    const changed = await put("products", rules(10));
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ name: "products", origin: "admin", version: 1, changedBy: "root" });
    expect(await variantOf({ "x-canary": "1" })).toBe("service");
    expect(await variantOf(await t.bearer({ sub: "someone", tenant: "acme" }))).toBe("service");
    expect(await variantOf(await t.bearer({ sub: "vip" }))).toBe("service");

    const users = Array.from({ length: 60 }, (_, i) => `user-${i}`);
    const tokens = await Promise.all(users.map((sub) => t.bearer({ sub })));
    const onService = async () => {
      const chosen = new Set<string>();
      for (const [i, sub] of users.entries()) {
        const variant = await variantOf(tokens[i]);
        expect(await variantOf(tokens[i])).toBe(variant); // sticky
        if (variant === "service") chosen.add(sub);
      }
      return chosen;
    };
    const at10 = await onService();
    // Non-default variants take the lowest buckets: a user is on the canary iff its bucket is below the weight.
    expect([...at10].sort()).toEqual(users.filter((u) => bucketOf("products", u) < 1_000).sort());
    expect((await put("products", rules(50))).status).toBe(200);
    const at50 = await onService();
    expect([...at10].every((u) => at50.has(u))).toBe(true);
    expect([...at50].sort()).toEqual(users.filter((u) => bucketOf("products", u) < 5_000).sort());
    expect(await t.metricsText()).toMatch(
      /flotilla_gateway_split_requests_total\{split="products",variant="service"\} \d+/,
    );
  });

  it("shadows reads to the other variant and reports equal and different answers", async () => {
    const rules = { weights: { legacy: 100 }, sticky: "none", shadow: { variant: "service", percent: 100 } };
    expect((await put("products", rules)).status).toBe(200);
    await fetch(`${t.url}/_flotilla/traffic/products/report`, { method: "DELETE", headers: admin });
    const report = async () =>
      (await (await get("/_flotilla/traffic/products/report", admin)).json()) as {
        compared: number;
        equal: number;
        different: number;
        differences: { paths: string[]; served: { variant: string; body: string }; shadow: { variant: string } }[];
      };
    for (let i = 0; i < 3; i++) expect(await variantOf()).toBe("legacy");
    const typo = await get("/api/v1/products/p1?typo=1");
    expect(await typo.json()).toMatchObject({ name: "Tea pot" });
    await until(async () => (await report()).compared === 4, "four comparisons");
    const r = await report();
    expect(r).toMatchObject({ equal: 3, different: 1 });
    expect(r.differences[0]).toMatchObject({
      paths: ["name"],
      served: { variant: "legacy" },
      shadow: { variant: "service" },
    });
    expect(r.differences[0]?.served.body).toContain("Tea pot");
    const shadowSpan = t.spans.find((s) => s.name === "shadow products service");
    expect(shadowSpan?.attributes["flotilla.shadow.outcome"]).toBeDefined();
    expect(await t.metricsText()).toContain(
      'flotilla_gateway_shadow_comparisons_total{split="products",outcome="equal"} 3',
    );

    const reset = await fetch(`${t.url}/_flotilla/traffic/products/report`, { method: "DELETE", headers: admin });
    expect(await reset.json()).toMatchObject({ compared: 0, differences: [] });
  });
});
