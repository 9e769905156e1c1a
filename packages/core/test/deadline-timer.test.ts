import { describe, expect, it } from "vitest";
import { DeadlineEntry, DeadlineTimer } from "../src/deadline-timer.js";

class Entry extends DeadlineEntry {
  constructor(
    deadline: number,
    private readonly fire: () => void,
  ) {
    super(deadline);
  }
  onExpire(): void {
    this.fire();
  }
}

describe("deadline timer", () => {
  it("fires expired entries, never early, and skips untracked ones", async () => {
    const timer = new DeadlineTimer(5);
    const fired: string[] = [];
    const start = Date.now();
    const at: Record<string, number> = {};
    const entry = (name: string, inMs: number) =>
      new Entry(start + inMs, () => {
        fired.push(name);
        at[name] = Date.now();
      });
    const a = entry("a", 10);
    const b = entry("b", 30);
    const c = entry("c", 20);
    timer.track(a);
    timer.track(b);
    timer.track(c);
    timer.untrack(c);
    expect(timer.pending).toBe(2);
    await new Promise((r) => setTimeout(r, 80));
    expect(fired.sort()).toEqual(["a", "b"]);
    expect(at.a).toBeGreaterThanOrEqual(a.deadline);
    expect(at.b).toBeGreaterThanOrEqual(b.deadline);
    expect(timer.pending).toBe(0);
  });

  it("forgets entries settled before the loop turns, and drains the rest", async () => {
    const timer = new DeadlineTimer(5);
    const fired: number[] = [];
    const entries = Array.from({ length: 10_000 }, (_, i) => new Entry(Date.now() + 20, () => fired.push(i)));
    for (const e of entries) timer.track(e);
    for (const e of entries.slice(0, 9_998)) timer.untrack(e);
    expect(timer.pending).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toEqual([9_998, 9_999]);
    const late = new Entry(Date.now() + 1_000, () => fired.push(-1));
    timer.track(late);
    await new Promise((r) => setImmediate(r));
    expect(timer.drain()).toEqual([late]);
    expect(timer.pending).toBe(0);
  });
});
