/** renderWaterfall on fixed spans, compared line for line. */
import { describe, expect, it } from "vitest";
import { renderWaterfall, type SpanRecord } from "../src/index.js";

const T = 1_700_000_000_000;

function span(
  id: string,
  parent: string | undefined,
  name: string,
  service: string,
  at: number,
  ms: number,
  extra: Partial<SpanRecord> = {},
): SpanRecord {
  return {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: id.padStart(16, "0"),
    ...(parent === undefined ? {} : { parentSpanId: parent.padStart(16, "0") }),
    name,
    kind: 1,
    startMs: T + at,
    durationMs: ms,
    status: 0,
    service,
    attributes: {},
    sampled: true,
    ...extra,
  };
}

const checkout = [
  span("6", "3", "OrderPlaced publish", "orders", 80, 0.4),
  span("1", undefined, "POST /api/v1/orders", "gateway", 0, 120),
  span("3", "2", "orders.place", "orders", 4, 100),
  span("5", "4", "payments.charge", "payments", 12, 55, { status: 2, statusMessage: "card declined" }),
  span("2", "1", "orders.place", "gateway", 2, 110),
  span("4", "3", "payments.charge", "orders", 10, 60, {
    status: 2,
    statusMessage: "card declined",
    attributes: { "error.type": "CARD_DECLINED" },
  }),
  span("7", "99", "OrderPlaced process", "shipping", 95, 20),
];

describe("renderWaterfall", () => {
  it("draws the tree, the bars on the trace's timeline, orphans and errors", () => {
    expect(renderWaterfall(checkout, { width: 100 }).split("\n")).toEqual([
      "trace 4bf92f3577b34da6a3ce929d0e0e4736  POST /api/v1/orders  120ms  7 spans  2 errors  gateway, orders, payments, shipping",
      "                                                 0                                             120ms",
      "  POST /api/v1/orders          gateway     120ms ███████████████████████████████████████████████████",
      "  └─ orders.place              gateway     110ms ███████████████████████████████████████████████",
      "     └─ orders.place           orders      100ms  ███████████████████████████████████████████",
      "✗       ├─ payments.charge     orders     60.0ms     ██████████████████████████",
      "        │  │  ↳ CARD_DECLINED: card declined",
      "✗       │  └─ payments.charge  payments   55.0ms      ███████████████████████",
      "        │        ↳ card declined",
      "        └─ OrderPlaced publish orders     0.40ms                                   █",
      "  OrderPlaced process [orphan] shipping   20.0ms                                         █████████",
    ]);
  });

  it("fits a narrow width, cutting long names and services", () => {
    const spans = [
      span("1", undefined, "a", "x", 0, 5),
      span("2", "1", "b-with-a-very-long-name", "a-long-service-name", 1, 3),
    ];
    const lines = renderWaterfall(spans, { width: 60 }).split("\n");
    expect(lines.slice(2)).toEqual([
      "  a                x                5.00ms █████████████████",
      "  └─ b-with-a-ver… a-long-servic…   3.00ms    ██████████",
    ]);
    for (const line of lines.slice(1)) expect(line.length).toBeLessThanOrEqual(60);
  });

  it("draws spans whose parents form a cycle as orphans instead of losing them", () => {
    const spans = [span("1", "2", "a", "x", 0, 5), span("2", "1", "b", "x", 1, 3)];
    expect(renderWaterfall(spans, { width: 50 }).split("\n").slice(2)).toEqual([
      "  a [orphan] x   5.00ms ██████████████████████████",
      "  └─ b       x   3.00ms      ████████████████",
    ]);
  });

  it("colours errors red and bars cyan only when asked", () => {
    const plain = renderWaterfall(checkout);
    expect(plain).not.toContain("\x1b[");
    const coloured = renderWaterfall(checkout, { color: true });
    expect(coloured).toContain("\x1b[31m↳ CARD_DECLINED: card declined\x1b[0m");
    expect(coloured).toContain("\x1b[36m███");
    // Without its escapes, the coloured drawing is the plain one.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what is removed
    expect(coloured.replace(/\x1b\[\d+m/g, "")).toBe(plain);
  });

  it("says so when there is nothing to draw", () => {
    expect(renderWaterfall([])).toBe("no spans");
  });
});
