/**
 * @module CPU time of a process and its children from /proc (Linux): PostgreSQL runs a process per
 * connection under its postmaster, so its CPU is the postmaster's (with its reaped children's) plus
 * that of every live child.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** Microseconds of user + system time of `pid`, its reaped children and its live children; NaN if unknown. */
export function treeCpuMicros(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    let ticks = 0;
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const f = stat(entry);
      if (f === undefined) continue;
      // After the command name: [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.
      if (Number(entry) === pid) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      else if (Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
    }
    return (ticks / ticksPerSecond) * 1e6;
  } catch {
    return Number.NaN;
  }
}

function stat(pid: string): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined; // gone meanwhile
  }
}
