/**
 * @module The closed loop every saga case runs: N sagas in flight, each loop starting its next saga
 * when its last one ended. Sagas 0…warm−1 warm up; the next `measured` are timed; the loops keep
 * starting sagas (untimed) until the last timed one ended, so the load stays at N throughout the
 * measured ones, then let the rest drain.
 *
 * Throughput counts every saga that ended between the first timed start and the last timed end,
 * over that interval; the process's CPU time (`process.cpuUsage`, user + system) is read at the same
 * two instants.
 */
import { readFileSync } from "node:fs";

/** CLOCK_MONOTONIC in ns: one clock for every process of the machine. */
export const now = (): number => Number(process.hrtime.bigint());

export interface LoadOptions {
  readonly inFlight: number;
  readonly warm: number;
  readonly measured: number;
}

export interface LoadResult {
  readonly inFlight: number;
  readonly measured: number;
  /** Sagas per second between the first timed start and the last timed end. */
  readonly perSec: number;
  /** Each timed saga's duration (ns), in the order they started. */
  readonly durationsNs: number[];
  /** Each timed saga's commands (steps plus compensations), same order. */
  readonly commands: number[];
  readonly intervalNs: number;
  /** This process's CPU time in the interval, µs. */
  readonly cpuUs: number;
  /**
   * The main thread's time in the interval (`/proc/self/schedstat`, ns): running on a CPU, and runnable
   * but waiting for one. Their sum near the interval means the event loop was never idle: CPU-bound,
   * whether or not the machine gave it a whole core.
   */
  readonly mainRunNs: number;
  readonly mainWaitNs: number;
  readonly errors: number;
  readonly firstError: string | undefined;
}

/** `run(i)` runs saga i to its end and resolves with the number of commands it sent. */
export async function closedLoop(run: (i: number) => Promise<number>, o: LoadOptions): Promise<LoadResult> {
  const total = o.warm + o.measured;
  const durationsNs = new Array<number>(o.measured).fill(Number.NaN);
  const commands = new Array<number>(o.measured).fill(0);
  let next = 0;
  let timedLeft = o.measured;
  let firstStart = Number.NaN;
  let lastEnd = Number.NaN;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let cpuAtEnd: NodeJS.CpuUsage | undefined;
  let schedAtStart = [Number.NaN, Number.NaN];
  let schedAtEnd = [Number.NaN, Number.NaN];
  const ends: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const loop = async () => {
    while (timedLeft > 0) {
      const i = next++;
      const timed = i >= o.warm && i < total;
      const start = now();
      if (i === o.warm) {
        firstStart = start;
        cpuAtStart = process.cpuUsage();
        schedAtStart = schedstat();
      }
      try {
        const sent = await run(i);
        const end = now();
        ends.push(end);
        if (timed) {
          durationsNs[i - o.warm] = end - start;
          commands[i - o.warm] = sent;
        }
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      if (timed && --timedLeft === 0) {
        lastEnd = now();
        cpuAtEnd = process.cpuUsage(cpuAtStart);
        schedAtEnd = schedstat();
      }
    }
  };
  await Promise.all(Array.from({ length: o.inFlight }, loop));
  const intervalNs = lastEnd - firstStart;
  const ended = ends.filter((t) => t >= firstStart && t <= lastEnd).length;
  return {
    inFlight: o.inFlight,
    measured: o.measured,
    perSec: (ended / intervalNs) * 1e9,
    durationsNs,
    commands,
    intervalNs,
    cpuUs: cpuAtEnd === undefined ? Number.NaN : cpuAtEnd.user + cpuAtEnd.system,
    mainRunNs: (schedAtEnd[0] as number) - (schedAtStart[0] as number),
    mainWaitNs: (schedAtEnd[1] as number) - (schedAtStart[1] as number),
    errors,
    firstError,
  };
}

/** The main thread's [running, waiting for a CPU] ns so far (Linux); NaN elsewhere. */
function schedstat(): number[] {
  try {
    return readFileSync("/proc/self/schedstat", "utf8").trim().split(" ").slice(0, 2).map(Number);
  } catch {
    return [Number.NaN, Number.NaN];
  }
}

/** Warm-up and measured counts for N in flight: at least `min` timed sagas, and the window. */
export function counts(inFlight: number, min: number): { warm: number; measured: number } {
  return { warm: Math.max(inFlight, Math.min(200, min)), measured: Math.max(min, inFlight) };
}
