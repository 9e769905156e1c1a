import { describe, expect, it } from "vitest";
import { DeadlineTimer } from "./deadline-timer.js";

describe("deadline timer", () => {
  it("fires expired entries, never early, and skips untracked ones", async () => {
    const timer = new DeadlineTimer(5);
    const fired: string[] = [];
    const start = Date.now();
    const at: Record<string, number> = {};
    const entry = (name: string, inMs: number) => ({
      deadline: start + inMs,
      onExpire: () => {
        fired.push(name);
        at[name] = Date.now();
      },
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
});
