import { describe, expect, it } from "vitest";
import { Queue } from "./queue.js";

describe("queue", () => {
  it("keeps FIFO order across compaction, unshift and removal", () => {
    const q = new Queue<number>();
    for (let i = 0; i < 3000; i++) q.push(i);
    for (let i = 0; i < 2000; i++) expect(q.shift()).toBe(i);
    q.unshift(1999);
    expect(q.length).toBe(1001);
    expect(q.shift()).toBe(1999);
    expect(q.removeWhere((n) => n % 2 === 0)).toHaveLength(500);
    expect(q.shift()).toBe(2001);
    expect(q.drain()).toHaveLength(499);
    expect(q.shift()).toBeUndefined();
  });
});
