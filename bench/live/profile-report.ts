/**
 * @module `--live-profile DIR`: the server child's CPU profile over the measured events and its heap
 * sampling over the opening of the connections, written to DIR and summarized on stderr. Profiling
 * costs time and memory of its own: a profiled run's figures are not the ones to report.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { summarize } from "../lib/cpu-profile.js";
import type { Child } from "./children.js";
import { summarizeHeap } from "./heap-profile.js";

/** The IPC requests a server child answers for the profiler (loaded only when asked for). */
export const profilerRequests = {
  "cpu-start": async () => (await import("./server-profiler.js")).startCpuProfile(),
  "cpu-stop": async (args: Record<string, unknown>) =>
    (await import("./server-profiler.js")).stopCpuProfile(args.file as string),
  "heap-start": async () => (await import("./server-profiler.js")).startHeapSampling(),
  "heap-stop": async (args: Record<string, unknown>) =>
    (await import("./server-profiler.js")).stopHeapSampling(args.file as string),
};

export class CaseProfile {
  constructor(
    private readonly server: Child,
    private readonly dir: string,
    private readonly name: string,
  ) {}

  private file(kind: string): string {
    return join(this.dir, `${this.name}.${kind}`);
  }

  startHeap(): Promise<void> {
    return this.server.request("heap-start");
  }

  /** Stops the heap sampling and reports what is still alive, per connection. */
  async stopHeap(connections: number, log: (line: string) => void): Promise<void> {
    const file = this.file("heapprofile");
    await this.server.request("heap-stop", { file });
    const heap = summarizeHeap(file);
    const per = (bytes: number) => `${(bytes / connections).toFixed(0).padStart(6)} B/conn`;
    log(`  heap kept after opening ${connections} connections (sampled, ${file}): ${per(heap.totalBytes)}`);
    for (const row of heap.functions.slice(0, 12)) log(`    ${per(row.bytes)}  ${row.name}`);
    log("  …by the innermost Flotilla frame that allocated:");
    for (const row of heap.flotilla.slice(0, 12)) log(`    ${per(row.bytes)}  ${row.name}`);
  }

  startCpu(): Promise<void> {
    return this.server.request("cpu-start");
  }

  async stopCpu(log: (line: string) => void): Promise<void> {
    const file = this.file("cpuprofile");
    await this.server.request("cpu-stop", { file });
    const cpu = summarize(JSON.parse(readFileSync(file, "utf8")));
    log(`  server CPU over the measured events (${cpu.samples} busy samples, ${file}), self % by function:`);
    for (const row of cpu.functions.slice(0, 15)) log(`    ${row.selfPct.toFixed(1).padStart(5)}%  ${row.name}`);
    log("  …inclusive % by file:");
    for (const row of [...cpu.files].sort((a, b) => b.totalPct - a.totalPct).slice(0, 12)) {
      log(`    ${row.totalPct.toFixed(1).padStart(5)}%  ${row.name}`);
    }
  }
}
