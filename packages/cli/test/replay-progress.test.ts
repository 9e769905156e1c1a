/** The replay's progress report, on a terminal and elsewhere, with a clock of the test's own. */
import { describe, expect, it } from "vitest";
import { eventsPerSecond, formatCount, Progress } from "../src/progress.js";

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns: 100, write: (text: string) => writes.push(text) > 0 } };
}

describe("replay progress", () => {
  it("redraws one line in place on a terminal, at most every 100 ms, and ends it", () => {
    let now = 0;
    const { writes, out } = stream(true);
    const progress = new Progress(out, "catalog.sales", () => now);
    now = 500;
    progress.update({ read: 3_000, total: 12_000, applied: 3_000 });
    now = 550;
    progress.update({ read: 3_500, total: 12_000, applied: 3_500 }); // within 100 ms: not drawn
    now = 2_000;
    progress.finish({ read: 12_000, total: 12_000, applied: 11_990 });
    expect(writes).toEqual([
      "\rcatalog.sales [#######-----------------------] 3,000/12,000  25%  6,000 events/s\x1b[K",
      "\rcatalog.sales [##############################] 12,000/12,000 100%  6,000 events/s\x1b[K",
      "\n",
    ]);
  });

  it("prints a line at once, then at most one a second, when not on a terminal", () => {
    let now = 0;
    const { writes, out } = stream(false);
    const progress = new Progress(out, "sink.tally", () => now);
    for (const [t, read] of [
      [100, 500],
      [600, 1_000],
      [1_099, 1_500],
      [1_100, 2_000],
    ] as const) {
      now = t;
      progress.update({ read, total: 4_000, applied: read - 10 });
    }
    progress.finish({ read: 4_000, total: 4_000, applied: 3_990 });
    expect(writes).toEqual([
      "sink.tally: 500/4,000 events read (12%), 490 applied, 5,000 events/s\n",
      "sink.tally: 2,000/4,000 events read (50%), 1,990 applied, 1,800 events/s\n",
    ]);
  });

  it("rounds rates to two significant digits and counts with separators", () => {
    expect(eventsPerSecond(12_000, 1.8)).toBe(6_700);
    expect(eventsPerSecond(45, 1)).toBe(45);
    expect(eventsPerSecond(0, 0)).toBe(0);
    expect(formatCount(1_234_567)).toBe("1,234,567");
  });
});
