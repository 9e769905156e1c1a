/** @module Input checked at the edge: the contract's schema runs in the gateway, and clients cannot claim Flotilla's own headers. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Policy, route } from "../src/index.js";
import { expectError, postJson, raw, seenBy, startGateway, statusOf, type TestGateway } from "./support/harness.js";
import { probe, reached, testRoutes } from "./support/services.js";

describe("input at the edge", () => {
  const seenByPolicy: unknown[] = [];
  const headersSeen: Record<string, unknown>[] = [];
  const observe: Policy = {
    name: "observe",
    onRequest: (ex) => {
      headersSeen.push({ ...ex.request.headers });
    },
    around: (ex, next) => {
      seenByPolicy.push(ex.input);
      return next();
    },
  };
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway({
      policies: [observe],
      routes: [
        route({ method: "GET", path: "/strict", action: probe.strict }),
        route({ method: "POST", path: "/strict", action: probe.strict }),
        ...testRoutes,
      ],
    });
  });
  afterAll(() => t.stop());

  it.each([
    ["a wrong type", { n: "many" }],
    ["a value out of range", { n: 11 }],
    ["an over-long string", { n: 1, tag: "x".repeat(9) }],
    ["no object at all", [1, 2, 3]],
  ])("refuses %s with the contract's issues before any service sees it", async (_, body) => {
    const before = reached.strict;
    const error = await expectError(await postJson(`${t.url}/strict`, body), 400, "INVALID_ARGUMENT");
    expect(error.details?.issues?.length).toBeGreaterThan(0);
    for (const issue of error.details?.issues ?? [])
      expect(Object.keys(issue).sort()).toEqual(["code", "message", "path"]);
    expect(reached.strict).toBe(before);
  });

  it("sends the parsed value: coerced from the query, defaulted, unknown keys stripped", async () => {
    seenByPolicy.length = 0;
    const res = await fetch(`${t.url}/strict?n=5&extra=dropped`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ n: 5, tag: "none" });
    // What the policies (and then the call) carry is the parsed value, not the query's strings.
    expect(seenByPolicy).toEqual([{ n: 5, tag: "none" }]);
  });

  it("strips flotilla-* headers a client sends, and keeps trace context for edge-ids", async () => {
    headersSeen.length = 0;
    const res = await fetch(`${t.url}/inspect/x`, {
      headers: {
        "flotilla-caller": JSON.stringify({ subject: "admin", roles: ["admin"] }),
        "Flotilla-Timeout-Ms": "999999",
        "flotilla-correlation-id": "forged",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "x-other": "kept",
      },
    });
    const seen = await seenBy(res);
    expect(seen.caller).toBeNull();
    expect(seen.correlationId).not.toBe("forged");
    expect(seen.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(headersSeen).toHaveLength(1);
    expect(Object.keys(headersSeen[0] ?? {}).filter((h) => h.startsWith("flotilla-"))).toEqual([]);
    expect(headersSeen[0]).toMatchObject({ "x-other": "kept", traceparent: expect.any(String) });
  });

  it("strips them when sent twice or with odd casing, over a raw socket", async () => {
    headersSeen.length = 0;
    const response = await raw(
      t.url,
      "GET /inspect/x HTTP/1.1\r\nhost: x\r\nconnection: close\r\nFLOTILLA-CALLER: a\r\nflotilla-caller: b\r\nflotilla-: c\r\n\r\n",
    );
    expect(statusOf(response)).toBe(200);
    expect(Object.keys(headersSeen[0] ?? {}).filter((h) => h.startsWith("flotilla-"))).toEqual([]);
  });
});
