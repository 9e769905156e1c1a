/** The byte estimate the memory bounds rest on: it must grow with everything a span carries. */
import { describe, expect, it } from "vitest";
import type { SpanRecord } from "../src/index.js";
import { spanBytes } from "../src/traces/span-size.js";

const bare: SpanRecord = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  name: "op",
  kind: 1,
  startMs: 0,
  durationMs: 1,
  status: 0,
  service: "orders",
  attributes: {},
  sampled: true,
};

describe("spanBytes", () => {
  it("counts ids, names, the fixed overhead, and two bytes a character", () => {
    expect(spanBytes(bare)).toBe(160 + 2 * (32 + 16 + 2 + 6));
    expect(spanBytes({ ...bare, statusMessage: "x".repeat(100) }) - spanBytes(bare)).toBe(200);
  });

  it("grows with attributes, arrays, events and links", () => {
    const attr = spanBytes({ ...bare, attributes: { key: "v".repeat(1000) } }) - spanBytes(bare);
    expect(attr).toBe(40 + 2 * 3 + 2 * 1000);
    expect(spanBytes({ ...bare, attributes: { n: 1, b: true, list: ["ab", "cd"] } }) - spanBytes(bare)).toBe(
      40 + 2 + 8 + (40 + 2 + 4) + (40 + 8 + 16 + 4 + 4),
    );
    const event = { name: "exception", timeMs: 0, attributes: { message: "m".repeat(50) } };
    expect(spanBytes({ ...bare, events: [event] }) - spanBytes(bare)).toBe(64 + 18 + 40 + 14 + 100);
    const link = { traceId: bare.traceId, spanId: bare.spanId };
    expect(spanBytes({ ...bare, links: [link, link] }) - spanBytes(bare)).toBe(2 * (64 + 2 * 48));
  });
});
