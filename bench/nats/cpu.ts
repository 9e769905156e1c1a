/**
 * @module CPU time of processes from /proc (Linux): on a machine whose few cores the peers share with
 * nats-server (and with other work), CPU time per operation is steadier than operations per second.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** User + system CPU time of a process so far, in microseconds; NaN where /proc cannot tell. */
export function cpuMicros(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces; the fields after it are space-separated.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) / ticksPerSecond) * 1e6;
  } catch {
    return Number.NaN;
  }
}

/** CPU microseconds of several processes, taken together at one moment. */
export function snapshot(pids: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMicros(pid)]));
}

/** CPU microseconds per operation of each process between two snapshots. */
export function perOp(before: Record<string, number>, after: Record<string, number>, ops: number) {
  return Object.fromEntries(Object.keys(before).map((k) => [k, ((after[k] ?? NaN) - (before[k] ?? NaN)) / ops]));
}
