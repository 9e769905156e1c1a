/**
 * @module CPU use of processes from Linux's /proc/<pid>/stat: user + system time consumed between two
 * reads, over the wall time between them, in percent of one core. Elsewhere it reads nothing.
 */
import { readFile } from "node:fs/promises";

/** /proc reports times in USER_HZ, which Linux fixes at 100 ticks a second for every architecture. */
const TICKS_PER_SECOND = 100;

interface Sample {
  readonly ticks: number;
  readonly at: number;
}

/** A pid not asked about for this long is forgotten (its process is gone or no longer watched). */
const FORGET_MS = 10 * 60_000;

/**
 * Remembers each pid's last sample, whichever read took it: one sampler serves every unit, read in
 * any order or at once. A pid's first read gives no figure (there is no interval yet).
 */
export class CpuSampler {
  private readonly samples = new Map<number, Sample>();

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** Whether CPU can be read on this system at all. */
  static get supported(): boolean {
    return process.platform === "linux";
  }

  /** Percent of one core each pid used since the previous read; pids read for the first time, or gone, are absent. */
  async read(pids: readonly number[]): Promise<Map<number, number>> {
    const percents = new Map<number, number>();
    await Promise.all(
      pids.map(async (pid) => {
        const ticks = await cpuTicks(pid);
        if (ticks === undefined) {
          this.samples.delete(pid);
          return;
        }
        const sample = { ticks, at: this.clock() };
        const last = this.samples.get(pid);
        this.samples.set(pid, sample);
        if (last === undefined || sample.at <= last.at) return;
        const used = (sample.ticks - last.ticks) / TICKS_PER_SECOND;
        percents.set(pid, (100 * used) / ((sample.at - last.at) / 1000));
      }),
    );
    const now = this.clock();
    for (const [pid, sample] of this.samples) if (now - sample.at > FORGET_MS) this.samples.delete(pid);
    return percents;
  }
}

/** utime + stime of a process, or undefined when it is gone or /proc is absent. */
async function cpuTicks(pid: number): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}
