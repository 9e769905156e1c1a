import type { TraceContext } from "@flotilla/core";
import { createTraceState, trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { fromSpanContext, toSpanContext } from "../src/index.js";
import { parentContext } from "../src/internal.js";

const tc: TraceContext = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  flags: 1,
  tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
};

describe("trace bridge", () => {
  it("converts core's trace context to an OpenTelemetry span context and back", () => {
    const sc = toSpanContext(tc);
    expect(sc).toMatchObject({ traceId: tc.traceId, spanId: tc.spanId, traceFlags: 1, isRemote: true });
    expect(sc.traceState?.get("congo")).toBe("t61rcWkgMzE");
    expect(fromSpanContext(sc)).toEqual(tc);
  });

  it("leaves tracestate out when there is none", () => {
    const plain = { traceId: tc.traceId, spanId: tc.spanId, flags: 0 };
    expect(toSpanContext(plain, false)).toEqual({ ...toSpanContext(plain), isRemote: false, traceFlags: 0 });
    expect(fromSpanContext(toSpanContext(plain))).toEqual(plain);
  });

  it("serializes a TraceState made elsewhere", () => {
    const sc = { traceId: tc.traceId, spanId: tc.spanId, traceFlags: 1, traceState: createTraceState("a=1,b=2") };
    expect(fromSpanContext(sc).tracestate).toBe("a=1,b=2");
  });

  it("gives a parent context that the API reads back, and that derives standard contexts", () => {
    const ctx = parentContext(tc);
    expect(trace.getSpanContext(ctx)).toMatchObject({ traceId: tc.traceId, spanId: tc.spanId, isRemote: true });
    const key = Symbol("k");
    const derived = ctx.setValue(key, 7);
    expect(derived.getValue(key)).toBe(7);
    expect(trace.getSpanContext(derived)?.spanId).toBe(tc.spanId);
    expect(trace.getSpan(trace.deleteSpan(ctx))).toBeUndefined();
  });
});
