/**
 * @module Where a server child spends its time and keeps its memory, for `--live-profile`: V8's CPU
 * profiler (100 µs) over the measured events, and its sampling heap profiler over the opening of the
 * connections (the samples still alive when it stops: what the connections retain). Both through an
 * inspector session inside the process, so the suite drives them over IPC like the memory samples.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

const session = new Session();
session.connect();

export async function startCpuProfile(): Promise<void> {
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
}

export async function stopCpuProfile(file: string): Promise<void> {
  const { profile } = await session.post("Profiler.stop");
  writeFileSync(file, JSON.stringify(profile));
}

export async function startHeapSampling(): Promise<void> {
  await session.post("HeapProfiler.enable");
  // Every 1 KiB allocated on average: fine enough to attribute a few KiB per connection.
  await session.post("HeapProfiler.startSampling", { samplingInterval: 1024 });
}

export async function stopHeapSampling(file: string): Promise<void> {
  await session.post("HeapProfiler.collectGarbage");
  const { profile } = await session.post("HeapProfiler.stopSampling");
  writeFileSync(file, JSON.stringify(profile));
}
