/** @module Error answers: the status mapping for every category, domain codes, details, and hidden internals. */
import { FlotillaCodes, STATUS, type Status } from "@flotilla/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTP_STATUS } from "../src/index.js";
import { errorOf, postJson, startGateway, type TestGateway } from "./support/harness.js";

const EXPECTED: Record<Status, number> = {
  INVALID_ARGUMENT: 400,
  OUT_OF_RANGE: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
  INTERNAL: 500,
  UNKNOWN: 500,
  DATA_LOSS: 500,
};
const HIDDEN: ReadonlySet<Status> = new Set(["INTERNAL", "UNKNOWN", "DATA_LOSS"]);

describe("error answers", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway({ withGhost: true });
  });
  afterAll(() => t.stop());

  const fail = (body: Record<string, unknown>) => postJson(`${t.url}/fail`, body);

  it("maps every status category", () => {
    expect(HTTP_STATUS).toEqual(EXPECTED);
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...STATUS].sort());
  });

  it.each(STATUS.map((s) => [s, EXPECTED[s]] as const))("answers %s with HTTP %i", async (status, http) => {
    const res = await fail({ status, message: "the service's own words", details: { hint: "kept" } });
    expect(res.status).toBe(http);
    const traceId = res.headers.get("x-trace-id");
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers.get("x-correlation-id")).toBeTruthy();
    expect(res.headers.get("traceparent")).toContain(traceId);
    const error = await errorOf(res);
    if (HIDDEN.has(status)) {
      expect(error).toEqual({ code: status === "INTERNAL" ? "INTERNAL" : status, message: "internal error", traceId });
    } else {
      expect(error).toEqual({ code: status, message: "the service's own words", traceId, details: { hint: "kept" } });
    }
  });

  it("keeps a domain code, its message and details", async () => {
    const res = await fetch(`${t.url}/api/v1/products/missing`);
    expect(res.status).toBe(404);
    const body = await res.json();
    expect(body).toEqual({
      error: {
        code: "PRODUCT_NOT_FOUND",
        message: "no product missing",
        traceId: res.headers.get("x-trace-id"),
        details: { id: "missing" },
      },
    });
  });

  it("keeps the failing fields of invalid input", async () => {
    const res = await postJson(`${t.url}/api/v1/products`, { name: "", price: -1, extra: true });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(Object.keys(error).sort()).toEqual(["code", "details", "message", "traceId"]);
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.details?.issues?.map((i) => i.path).sort()).toEqual(["name", "price"]);
    for (const issue of error.details?.issues ?? [])
      expect(Object.keys(issue).sort()).toEqual(["code", "message", "path"]);
  });

  it.each(
    [
      [FlotillaCodes.PAYLOAD_TOO_LARGE, 413],
      [FlotillaCodes.OVERLOADED, 503],
      [FlotillaCodes.NOT_STARTED, 503],
      [FlotillaCodes.NO_INSTANCE, 503],
      [FlotillaCodes.NO_HANDLER, 501],
    ].map(([entry, http]) => [(entry as { code: string }).code, (entry as { status: Status }).status, http as number]),
  )("answers %s with its own HTTP status", async (code, status, http) => {
    const res = await fail({ status, code });
    expect(res.status).toBe(http);
    expect((await errorOf(res)).code).toBe(code);
  });

  it("treats a configuration error as internal", async () => {
    const res = await fail({ status: FlotillaCodes.CONFIG.status, code: FlotillaCodes.CONFIG.code, message: "db url" });
    expect(res.status).toBe(500);
    expect(await errorOf(res)).toMatchObject({ code: "INTERNAL", message: "internal error" });
  });

  it("never leaks an internal error, and logs it with the trace id", async () => {
    const res = await fetch(`${t.url}/crash`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("hunter2");
    const traceId = res.headers.get("x-trace-id");
    expect(JSON.parse(text)).toEqual({ error: { code: "INTERNAL", message: "internal error", traceId } });
    const logged = t.logs.find((l) => l.msg === "request failed" && l.trace_id === traceId);
    expect(logged).toBeDefined();
    expect(JSON.stringify(logged)).toContain("hunter2");
    expect(logged?.correlation_id).toBe(res.headers.get("x-correlation-id"));
  });

  it("answers 504 when the action outlives the route's timeout", async () => {
    const res = await fetch(`${t.url}/slow?ms=2000`);
    expect(res.status).toBe(504);
    expect((await errorOf(res)).code).toBe("DEADLINE_EXCEEDED");
  });

  it("answers 503 when the target service has no instance", async () => {
    const res = await postJson(`${t.url}/ghost`, {});
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe("FLOTILLA_NO_INSTANCE");
  });

  it.each([
    ["an unknown path", "GET", "/api/v1/nothing-here"],
    ["a known path with another method", "PUT", "/api/v1/products"],
  ])("answers 404 NOT_FOUND for %s", async (_, method, path) => {
    const res = await fetch(`${t.url}${path}`, { method });
    expect(res.status).toBe(404);
    const traceId = res.headers.get("x-trace-id");
    expect(res.headers.get("x-correlation-id")).toBeTruthy();
    expect(await res.json()).toEqual({ error: { code: "NOT_FOUND", message: "no route matches", traceId } });
  });
});
