/** @module Trace context and correlation ids: propagation to services and onto every answer. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seenBy, startGateway, type TestGateway } from "./support/harness.js";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const PARENT_SPAN = "b7ad6b7169203331";
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN}-01`;
const TRACEPARENT_FORMAT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/;

describe("trace context and correlation ids", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway();
  });
  afterAll(() => t.stop());

  it("propagates the caller's trace: services see its trace id and the gateway's span as parent", async () => {
    const res = await fetch(`${t.url}/inspect/x`, {
      headers: { traceparent: TRACEPARENT, tracestate: "vendor=opaque", "x-correlation-id": "order-42.retry:1" },
    });
    const seen = await seenBy(res);
    expect(seen.traceId).toBe(TRACE_ID);
    expect(seen.tracestate).toBe("vendor=opaque");
    expect(seen.correlationId).toBe("order-42.retry:1");
    expect(seen.parentSpanId).not.toBe(PARENT_SPAN);
    expect(res.headers.get("x-trace-id")).toBe(TRACE_ID);
    expect(res.headers.get("x-correlation-id")).toBe("order-42.retry:1");
    expect(res.headers.get("traceparent")).toBe(`00-${TRACE_ID}-${seen.parentSpanId}-01`);
  });

  it("passes the caller's W3C baggage on to the service, and drops one past 8192 bytes whole", async () => {
    const sent = await fetch(`${t.url}/inspect/x`, { headers: { baggage: "tenant=acme,plan=gold;tier=1" } });
    expect((await seenBy(sent)).baggage).toBe("tenant=acme,plan=gold;tier=1");
    const huge = await fetch(`${t.url}/inspect/x`, { headers: { baggage: `k=${"v".repeat(8200)}` } });
    expect(huge.status).toBe(200);
    expect((await seenBy(huge)).baggage).toBeNull();
  });

  it("keeps the caller's sampling decision", async () => {
    const res = await fetch(`${t.url}/inspect/x`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-00` } });
    expect(res.headers.get("traceparent")).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
  });

  it("starts a new trace when the request has none, and takes its id as the correlation id", async () => {
    const res = await fetch(`${t.url}/inspect/x`);
    const seen = await seenBy(res);
    expect(res.headers.get("x-trace-id")).toBe(seen.traceId);
    expect(res.headers.get("x-correlation-id")).toBe(seen.correlationId);
    expect(seen.correlationId).toBe(seen.traceId);
    expect(res.headers.get("traceparent")).toBe(`00-${seen.traceId}-${seen.parentSpanId}-01`);
  });

  it.each([
    ["garbage", "not-a-traceparent"],
    ["all-zero trace id", `00-${"0".repeat(32)}-${PARENT_SPAN}-01`],
    ["all-zero span id", `00-${TRACE_ID}-${"0".repeat(16)}-01`],
    ["forbidden version ff", `ff-${TRACE_ID}-${PARENT_SPAN}-01`],
    ["version 00 with extra fields", `${TRACEPARENT}-extra`],
    ["over-long", `${TRACEPARENT}${"a".repeat(5000)}`],
  ])("ignores an invalid traceparent (%s) and its tracestate", async (_, traceparent) => {
    const res = await fetch(`${t.url}/inspect/x`, { headers: { traceparent, tracestate: "vendor=opaque" } });
    expect(res.status).toBe(200);
    const seen = await seenBy(res);
    expect(seen.traceId).not.toBe(TRACE_ID);
    expect(seen.tracestate).toBeNull();
    expect(res.headers.get("x-trace-id")).toBe(seen.traceId);
    expect(res.headers.get("traceparent")).toMatch(TRACEPARENT_FORMAT);
  });

  it.each([
    ["too long", "a".repeat(129)],
    ["spaces", "a b"],
    ["markup", "<script>alert(1)</script>"],
    ["leading punctuation", "-abc"],
    ["non-ASCII", "caf\u00e9"],
  ])("replaces a correlation id that is not sane (%s)", async (_, id) => {
    const res = await fetch(`${t.url}/inspect/x`, { headers: { "x-correlation-id": id } });
    const seen = await seenBy(res);
    expect(seen.correlationId).toBe(seen.traceId);
    expect(res.headers.get("x-correlation-id")).toBe(seen.correlationId);
  });
});
