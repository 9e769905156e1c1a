import { describe, expect, it } from "vitest";
import { childTraceContext, formatTraceparent, newTraceContext, parseTraceparent } from "../src/trace-context.js";

describe("trace context", () => {
  const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  it("parses and formats W3C traceparent", () => {
    const t = parseTraceparent(valid, "vendor=1");
    expect(t).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      flags: 1,
      tracestate: "vendor=1",
    });
    expect(formatTraceparent(t!)).toBe(valid);
    expect(parseTraceparent(valid.toUpperCase())?.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it.each([
    ["", "empty"],
    ["00-00000000000000000000000000000000-00f067aa0ba902b7-01", "zero trace id"],
    ["00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "zero span id"],
    ["ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version ff"],
    ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "extra field on version 00"],
    ["00-xyz-00f067aa0ba902b7-01", "not hex"],
    [`00-${"a".repeat(600)}`, "oversized"],
  ])("rejects %s (%s)", (header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it("accepts future versions with extra fields", () => {
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future")).toBeDefined();
  });

  it("creates well-formed unique ids and children in the same trace", () => {
    const a = newTraceContext();
    const b = newTraceContext();
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.traceId).not.toBe(b.traceId);
    const child = childTraceContext(a);
    expect(child.traceId).toBe(a.traceId);
    expect(child.spanId).not.toBe(a.spanId);
    expect(parseTraceparent(formatTraceparent(child))).toEqual(child);
  });
});
