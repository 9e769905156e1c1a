import { describe, expect, it } from "vitest";
import { Queue } from "../src/queue.js";

describe("queue", () => {
  it("keeps FIFO order across compaction and unshift", () => {
    const q = new Queue<number>();
    for (let i = 0; i < 3000; i++) q.push(i);
    for (let i = 0; i < 2000; i++) expect(q.shift()).toBe(i);
    q.unshift(1999);
    expect(q.length).toBe(1001);
    expect(q.shift()).toBe(1999);
    for (let i = 2000; i < 3000; i++) expect(q.shift()).toBe(i);
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
  });
});
