import { describe, expect, it } from "vitest";
import { FlotillaCodes, FlotillaError, fromWire, isPoison, toWire } from "../src/errors.js";

describe("errors", () => {
  it("defaults status and retryability from the code", () => {
    expect(new FlotillaError("UNAVAILABLE", "x")).toMatchObject({ status: "UNAVAILABLE", retryable: true });
    expect(new FlotillaError("NOT_FOUND", "x")).toMatchObject({ status: "NOT_FOUND", retryable: false });
    expect(new FlotillaError("PRODUCT_NOT_FOUND", "x", { status: "NOT_FOUND" }).status).toBe("NOT_FOUND");
    expect(new FlotillaError("SOMETHING_ELSE", "x").status).toBe("INTERNAL");
    expect(new FlotillaError("ABORTED", "x", { retryable: false }).retryable).toBe(false);
  });

  it("round-trips code, status, details and the cause chain through JSON", () => {
    const root = new TypeError("disk on fire");
    const err = new FlotillaError("ORDER_FAILED", "order failed", {
      status: "FAILED_PRECONDITION",
      details: { orderId: "o1" },
      cause: new FlotillaError("UNAVAILABLE", "db down", { cause: root }),
    });
    const back = fromWire(JSON.parse(JSON.stringify(toWire(err))));
    expect(back).toBeInstanceOf(FlotillaError);
    expect(back).toMatchObject({ code: "ORDER_FAILED", status: "FAILED_PRECONDITION", details: { orderId: "o1" } });
    expect(back.cause).toMatchObject({ code: "UNAVAILABLE", message: "db down", retryable: true });
    expect((back.cause as FlotillaError).cause).toMatchObject({ code: "INTERNAL", message: "disk on fire" });
    expect(toWire(root).name).toBe("TypeError");
  });

  it("wraps anything thrown", () => {
    expect(FlotillaError.from("text")).toMatchObject({ code: "UNKNOWN", message: "text" });
    expect(FlotillaError.from({ weird: true })).toMatchObject({ code: "UNKNOWN", details: { weird: true } });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => toWire(new FlotillaError("INTERNAL", "x", { details: circular }))).not.toThrow();
  });

  it("bounds the cause chain", () => {
    let err: unknown = new Error("bottom");
    for (let i = 0; i < 50; i++) err = new FlotillaError("INTERNAL", `level ${i}`, { cause: err });
    let depth = 0;
    for (let w = toWire(err); w.cause; w = w.cause) depth++;
    expect(depth).toBe(8);
  });

  it("rejects malformed wire errors with a stable code", () => {
    expect(fromWire({ code: 1 }).code).toBe(FlotillaCodes.BAD_ENVELOPE.code);
    expect(fromWire({ code: "X", message: "m", status: "NOPE", retryable: false }).code).toBe("FLOTILLA_BAD_ENVELOPE");
  });

  it("treats invalid data and missing handlers as poison for events", () => {
    expect(isPoison("INVALID_ARGUMENT")).toBe(true);
    expect(isPoison("UNAVAILABLE")).toBe(false);
    expect(isPoison("INTERNAL")).toBe(false);
  });
});
