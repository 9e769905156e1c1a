/** @module A server child's memory, after a full garbage collection, as the suite reads it over IPC. */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
  /** Memory of Buffers and other C++ objects bound to JavaScript (sockets' buffers among them). */
  externalBytes: number;
}

/** `gc` as `node --expose-gc` would give it; set here because the suite starts its children through tsx. */
function exposedGc(): () => void {
  const given = (globalThis as { gc?: () => void }).gc;
  if (typeof given === "function") return given;
  setFlagsFromString("--expose-gc");
  const made: unknown = runInNewContext("gc");
  if (typeof made !== "function") throw new Error("cannot expose gc: run the server with node --expose-gc");
  return made as () => void;
}

const gc = exposedGc();

/** Collects twice (the second pass takes what the first one's finalizers freed), then samples. */
export function memoryAfterGc(): MemorySample {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external };
}
