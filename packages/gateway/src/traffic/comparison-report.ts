/** @module A split's comparison report: how its shadow calls compared with the answers clients got. */

/** An answer as compared: its status and its body (parsed JSON, or the text when it is not JSON). */
export interface ComparedAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface Difference {
  readonly at: string;
  readonly method: string;
  /** The request's path and query. */
  readonly path: string;
  readonly served: { readonly variant: string; readonly status: number; readonly body: string };
  readonly shadow: { readonly variant: string; readonly status: number; readonly body: string };
  /** JSON paths that differ (`$` for the whole body); empty when only the status did. */
  readonly paths: readonly string[];
}

/** What `GET /_flotilla/traffic/:split/report` answers. */
export interface ReportView {
  readonly split: string;
  /** ISO-8601 time of the last reset (or of the gateway's start). */
  readonly since: string;
  /** Shadow calls whose answer was compared (equal + different). */
  readonly compared: number;
  readonly equal: number;
  readonly different: number;
  /** Shadow calls that failed without an HTTP answer (timeout, unreachable). */
  readonly shadowFailed: number;
  /** Shadow calls not made: too many were running already. */
  readonly dropped: number;
  /** The last differences, newest first. */
  readonly differences: readonly Difference[];
}

/** Outcomes, as `flotilla_gateway_shadow_comparisons_total` labels them. */
export type ComparisonOutcome = "equal" | "different" | "shadow_failed" | "dropped";

/** Bodies in a difference are cut to this many characters. */
const BODY_CHARS = 2_048;

export class ComparisonReport {
  private since = new Date().toISOString();
  private counts = { equal: 0, different: 0, shadowFailed: 0, dropped: 0 };
  private differences: Difference[] = [];

  constructor(
    readonly split: string,
    private readonly keep: number,
  ) {}

  count(outcome: Exclude<ComparisonOutcome, "different">): void {
    if (outcome === "equal") this.counts.equal++;
    else if (outcome === "dropped") this.counts.dropped++;
    else this.counts.shadowFailed++;
  }

  different(difference: Omit<Difference, "at" | "served" | "shadow">, served: Side, shadow: Side): void {
    this.counts.different++;
    this.differences.unshift({ at: new Date().toISOString(), ...difference, served: cut(served), shadow: cut(shadow) });
    if (this.differences.length > this.keep) this.differences.length = this.keep;
  }

  reset(): void {
    this.since = new Date().toISOString();
    this.counts = { equal: 0, different: 0, shadowFailed: 0, dropped: 0 };
    this.differences = [];
  }

  view(): ReportView {
    const { equal, different, shadowFailed, dropped } = this.counts;
    return {
      split: this.split,
      since: this.since,
      compared: equal + different,
      equal,
      different,
      shadowFailed,
      dropped,
      differences: [...this.differences],
    };
  }
}

interface Side {
  readonly variant: string;
  readonly answer: ComparedAnswer;
}

function cut({ variant, answer }: Side) {
  const text = typeof answer.body === "string" ? answer.body : (JSON.stringify(answer.body) ?? "");
  return {
    variant,
    status: answer.status,
    body: text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS)}…` : text,
  };
}
