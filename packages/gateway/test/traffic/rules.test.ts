/** @module The pieces of traffic splits on their own: rules validation, bucket layout, JSON comparison, deprecation. */
import { describe, expect, it } from "vitest";
import { parseRules, proxy, route, splitRoute, versionSplit } from "../../src/index.js";
import { jsonDifferences } from "../../src/traffic/json-diff.js";
import { chooseVariant } from "../../src/traffic/variant-choice.js";
import { startGateway } from "../support/harness.js";
import { catalog } from "../support/services.js";

const VARIANTS = ["stable", "canary"];
const issues = (raw: unknown, kind: "version" | "route" = "route") => {
  try {
    parseRules(raw, VARIANTS, kind);
  } catch (err) {
    return (err as { code: string; details: { issues: { path: string }[] } }).details.issues.map((i) => i.path);
  }
  return [];
};

describe("traffic rules", () => {
  it("accepts valid rules and fills in the defaults", () => {
    expect(parseRules({ weights: { stable: 100 } }, VARIANTS, "route")).toEqual({
      weights: { stable: 100 },
      match: [],
      sticky: "user",
      shadow: undefined,
    });
    const rules = parseRules(
      {
        weights: { stable: 90, canary: 10 },
        match: [{ header: "X-Canary", value: "1", variant: "canary" }],
        shadow: { variant: "canary" },
      },
      VARIANTS,
      "route",
    );
    expect(rules.match).toEqual([{ header: "x-canary", value: "1", variant: "canary" }]);
    expect(rules.shadow).toEqual({ variant: "canary", percent: 100 });
  });

  it("names every field it refuses", () => {
    expect(issues(null)).toEqual([""]);
    expect(issues({ weights: { stable: 50.5, canary: 50 } })).toEqual(["weights.stable"]);
    expect(issues({ weights: { stable: 50, canary: 40 } })).toEqual(["weights"]);
    expect(issues({ weights: { stable: -10, canary: 110 } })).toEqual(["weights.stable", "weights.canary"]);
    expect(issues({ weights: { stable: 100 }, extra: 1 })).toEqual(["extra"]);
    expect(
      issues({
        weights: { stable: 100 },
        match: [
          { tenant: "", variant: "canary" },
          { user: "u", header: "h", variant: "canary" },
        ],
      }),
    ).toEqual(["match.0.tenant", "match.1"]);
    expect(issues({ weights: { stable: 100 }, shadow: { variant: "nightly", percent: 101 } })).toEqual([
      "shadow.percent",
      "shadow.variant",
    ]);
    expect(issues({ weights: { stable: 100 }, shadow: { variant: "canary" } }, "version")).toEqual(["shadow"]);
  });

  it("gives the non-default variants the lowest buckets, so a growing weight keeps its users", () => {
    const rules = (canary: number) => parseRules({ weights: { stable: 100 - canary, canary } }, VARIANTS, "route");
    const layout = ["canary", "stable"];
    const at = (canary: number, bucket: number) =>
      chooseVariant(
        "s",
        rules(canary),
        layout,
        { headers: {}, caller: undefined, clientId: undefined },
        () => bucket / 10_000,
      ).variant;
    expect(at(10, 999)).toBe("canary");
    expect(at(10, 1_000)).toBe("stable");
    expect(at(50, 999)).toBe("canary");
    expect(at(50, 4_999)).toBe("canary");
    expect(at(0, 0)).toBe("stable");
  });
});

describe("JSON comparison", () => {
  it("ignores key order and lists where values differ, skipping ignored paths", () => {
    expect(jsonDifferences({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toEqual([]);
    expect(jsonDifferences({ a: 1, b: [1, { c: 2 }] }, { a: 2, b: [1, { c: 3 }], d: 0 })).toEqual(["a", "b.1.c", "d"]);
    expect(jsonDifferences([1, 2], [1])).toEqual(["$"]);
    expect(jsonDifferences("x", { x: 1 })).toEqual(["$"]);
    expect(
      jsonDifferences(
        {
          items: [
            { at: 1, v: 1 },
            { at: 2, v: 1 },
          ],
        },
        {
          items: [
            { at: 3, v: 1 },
            { at: 4, v: 2 },
          ],
        },
        ["items.*.at"],
      ),
    ).toEqual(["items.1.v"]);
  });
});

describe("split declarations and deprecation", () => {
  const r = route({ method: "GET", path: "/p/:id", action: catalog.getProduct });
  it("refuses splits that cannot work, at start", () => {
    expect(() => versionSplit({ service: "catalog", variants: { a: "1", b: "x" }, default: "a" })).toThrow(
      /version prefix/,
    );
    expect(() => versionSplit({ service: "catalog", variants: { a: "1" }, default: "a" })).toThrow(/two variants/);
    expect(() =>
      splitRoute({ name: "p", method: "GET", path: "/p/:id", variants: { a: r, b: r }, default: "c" as "a" }),
    ).toThrow(/default/);
    const elsewhere = route({ method: "GET", path: "/q/:id", action: catalog.getProduct });
    expect(() =>
      splitRoute({ name: "p", method: "GET", path: "/p/:id", variants: { a: r, b: elsewhere }, default: "a" }),
    ).toThrow(/is on \/q\/:id/);
    const posted = proxy({ path: "/p/:id", methods: ["POST"], upstream: "legacy" });
    const postRoute = route({ method: "POST", path: "/p/:id", action: catalog.createProduct });
    expect(() =>
      splitRoute({ name: "p", method: "POST", path: "/p/:id", variants: { a: postRoute, b: posted }, default: "a" }),
    ).toThrow(/GET and DELETE only/);
    expect(() =>
      route({ method: "GET", path: "/x", action: catalog.getProduct, deprecated: { since: "soon" } }),
    ).toThrow(/not a date/);
    expect(() =>
      route({
        method: "GET",
        path: "/x",
        action: catalog.getProduct,
        deprecated: { since: "2027-01-01", sunset: "2026-01-01" },
      }),
    ).toThrow(/before/);
  });

  it("answers a deprecated route with its headers, errors included, and documents it deprecated", async () => {
    const t = await startGateway({
      routes: [
        route({
          method: "GET",
          path: "/old/:id",
          action: catalog.getProduct,
          input: (req) => ({ id: req.params.id }),
          deprecated: {
            since: new Date("2026-06-01T00:00:00Z"),
            sunset: "2026-12-31T00:00:00Z",
            link: "https://example.com/v2",
          },
        }),
        route({ method: "GET", path: "/new/:id", action: catalog.getProduct, input: (req) => ({ id: req.params.id }) }),
      ],
      openapi: { title: "t", version: "1" },
    });
    try {
      for (const id of ["p1", "missing"]) {
        const res = await fetch(`${t.url}/old/${id}`);
        expect(res.status).toBe(id === "p1" ? 200 : 404);
        expect(res.headers.get("deprecation")).toBe("@1780272000");
        expect(res.headers.get("sunset")).toBe("Thu, 31 Dec 2026 00:00:00 GMT");
        expect(res.headers.get("link")).toBe('<https://example.com/v2>; rel="deprecation"');
      }
      expect((await fetch(`${t.url}/new/p1`)).headers.get("deprecation")).toBeNull();
      const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
        paths: Record<string, { get: { deprecated?: boolean } }>;
      };
      expect(doc.paths["/old/{id}"]?.get.deprecated).toBe(true);
      expect(doc.paths["/new/{id}"]?.get.deprecated).toBeUndefined();
    } finally {
      await t.stop();
    }
  });
});
