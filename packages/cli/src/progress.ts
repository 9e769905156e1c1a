/**
 * @module A progress report for long operator commands. On a terminal: one line redrawn in place
 * (`\r`) with a bar, read/total and the rate. Elsewhere (a pipe, a log file): a plain line, the first
 * at once and then at most one a second.
 */

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

export interface ProgressState {
  readonly read: number;
  readonly total: number;
  readonly applied: number;
}

const TTY_INTERVAL_MS = 100;
const LINE_INTERVAL_MS = 1_000;
const BAR_WIDTH = 30;

export class Progress {
  private started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  /** A terminal line is on screen that the next output must end first. */
  private open = false;

  constructor(
    private readonly out: ProgressStream,
    private readonly label: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** Measures the rate from now on (e.g. once the preparations are done). */
  restart(): void {
    this.started = this.now();
    this.lastDraw = Number.NEGATIVE_INFINITY;
  }

  update(state: ProgressState): void {
    const t = this.now();
    if (t - this.lastDraw < (this.out.isTTY ? TTY_INTERVAL_MS : LINE_INTERVAL_MS)) return;
    this.lastDraw = t;
    this.draw(state, t);
  }

  /** The final state on a terminal (whatever the interval), and the line ended. */
  finish(state?: ProgressState): void {
    if (this.out.isTTY && state !== undefined) this.draw(state, this.now());
    this.end();
  }

  /** Ends a terminal line left open, so what is printed next starts on a line of its own. */
  end(): void {
    if (this.open) this.out.write("\n");
    this.open = false;
  }

  private draw(state: ProgressState, t: number): void {
    const total = Math.max(state.total, state.read);
    const fraction = total === 0 ? 1 : state.read / total;
    const counts = `${formatCount(state.read)}/${formatCount(total)}`;
    const rate = `${formatCount(eventsPerSecond(state.read, (t - this.started) / 1000))} events/s`;
    const percent = `${Math.floor(fraction * 100)}%`;
    if (!this.out.isTTY) {
      this.out.write(
        `${this.label}: ${counts} events read (${percent}), ${formatCount(state.applied)} applied, ${rate}\n`,
      );
      return;
    }
    const filled = Math.floor(fraction * BAR_WIDTH);
    const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
    const line = `${this.label} ${bar} ${counts} ${percent.padStart(4)}  ${rate}`;
    // Clipped to the terminal's width: a wrapped line could not be redrawn in place.
    const width = this.out.columns || 80;
    this.out.write(`\r${line.slice(0, Math.max(10, width - 1))}\x1b[K`);
    this.open = true;
  }
}

/** `12000` → `12,000`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Events per second over `seconds`, to two significant digits from 100 on (6,666 → 6,700). */
export function eventsPerSecond(events: number, seconds: number): number {
  if (events === 0 || seconds <= 0) return 0;
  const rate = events / seconds;
  return rate >= 100 ? Number(rate.toPrecision(2)) : Math.round(rate);
}
