/** @module A server child's memory, after a full garbage collection, as the suite reads it over IPC. */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
  /** Memory of Buffers and other C++ objects bound to JavaScript (sockets' buffers among them). */
  externalBytes: number;
}

// The same as starting node with --expose-gc, which tsx's way of starting children makes awkward.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Collects twice (the second pass takes what the first one's finalizers freed), then samples. */
export function memoryAfterGc(): MemorySample {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external };
}
