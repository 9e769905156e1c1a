/** criticalPath on fixed traces: sequential and parallel children, async ends, orphans, several roots, zero length. */
import { describe, expect, it } from "vitest";
import { criticalPath, type SpanRecord } from "../src/index.js";

const T = 1_700_000_000_000;

/** A span `id` (its name too) under `parent`, from `at` for `ms` milliseconds after T. */
function span(id: string, parent: string | undefined, at: number, ms: number): SpanRecord {
  return {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: id.padStart(16, "0"),
    ...(parent === undefined ? {} : { parentSpanId: parent.padStart(16, "0") }),
    name: id,
    kind: 0,
    startMs: T + at,
    durationMs: ms,
    status: 0,
    service: "svc",
    attributes: {},
    sampled: true,
  };
}

/** The path as the short ids the spans were made with. */
function path(spans: SpanRecord[]): string[] {
  return criticalPath(spans).map((id) => id.replace(/^0+/, ""));
}

describe("criticalPath", () => {
  it("is empty for no spans and the span itself for one", () => {
    expect(criticalPath([])).toEqual([]);
    expect(path([span("1", undefined, 0, 10)])).toEqual(["1"]);
  });

  it("follows sequential children back from the end, skipping the ones a later sibling overlaps", () => {
    // 1: 0..100; 2: 5..30; 3: 10..25 (inside 2's time, ends before 2); 4: 35..90; 5: 40..60 under 4.
    const spans = [
      span("1", undefined, 0, 100),
      span("2", "1", 5, 25),
      span("3", "1", 10, 15),
      span("4", "1", 35, 55),
      span("5", "4", 40, 20),
    ];
    expect(path(spans)).toEqual(["1", "2", "4", "5"]);
  });

  it("takes, of parallel children, the one that ends last", () => {
    const spans = [span("1", undefined, 0, 50), span("2", "1", 1, 20), span("3", "1", 2, 45), span("4", "1", 3, 30)];
    expect(path(spans)).toEqual(["1", "3"]);
  });

  it("counts a child that ends after its parent (an async event) up to its own end", () => {
    // The request answers at 20; the event it published is consumed until 80, and its consumer's call until 75.
    const spans = [
      span("1", undefined, 0, 20),
      span("2", "1", 2, 10),
      span("3", "1", 15, 1),
      span("4", "3", 30, 50),
      span("5", "4", 40, 35),
      span("6", "4", 31, 5),
    ];
    // 2 ends before 3 starts: the request's own work before the publish is on the path too.
    expect(path(spans)).toEqual(["1", "2", "3", "4", "6", "5"]);
  });

  it("makes roots of orphans and starts from the root that reaches latest", () => {
    const spans = [
      span("1", undefined, 0, 30),
      span("2", "1", 5, 20),
      // Its parent was never recorded: a root of its own, and it ends last.
      span("7", "99", 40, 20),
      span("8", "7", 45, 10),
    ];
    expect(path(spans)).toEqual(["7", "8"]);
  });

  it("chooses between several roots by their reach, not their own end", () => {
    const spans = [span("1", undefined, 0, 10), span("2", "1", 5, 90), span("3", undefined, 0, 50)];
    expect(path(spans)).toEqual(["1", "2"]);
  });

  it("walks through zero-length spans without looping", () => {
    const spans = [
      span("1", undefined, 0, 10),
      span("2", "1", 10, 0),
      span("3", "1", 10, 0),
      span("4", "1", 4, 6),
      span("5", "4", 5, 0),
    ];
    // 2 and 3 end at 10 with 1; the tie goes to the lower id, then 3 (also at 10) and 4 (ends at 10) follow back.
    expect(path(spans)).toEqual(["1", "4", "5", "2", "3"]);
  });

  it("leaves out spans whose parents form a loop, and does not hang on them", () => {
    const spans = [span("1", undefined, 0, 10), span("a", "b", 1, 50), span("b", "a", 2, 60)];
    expect(path(spans)).toEqual(["1"]);
  });

  it("follows a chain of 3,000 nested spans", () => {
    const spans = [span("1", undefined, 0, 10)];
    for (let i = 2; i <= 3000; i++) spans.push(span(String(i), String(i - 1), i / 1000, 1));
    expect(criticalPath(spans)).toHaveLength(3000);
  });
});
