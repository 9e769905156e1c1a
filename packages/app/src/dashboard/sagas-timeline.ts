/**
 * @module A saga's journal as a timeline: each step's commands, outcomes, retries (with their delay) and
 * compensations, in order, with the time since the entry before.
 *
 * The journal records decisions, not sends. A command is written to the outbox by the decision before
 * its outcome (a retry's, once its delay has passed), so each outcome brings a `sent` entry at that
 * time; a saga still in flight brings one for the command whose outcome it awaits.
 */
import type { SagaView } from "../saga-readers.js";

export type TimelineKind =
  | "started"
  | "sent"
  | "succeeded"
  | "failed"
  | "retry"
  | "compensating"
  | "compensated"
  | "compensation-failed"
  | "completed"
  | "compensated-all"
  | "saga-failed";

export interface TimelineEntry {
  readonly at: string;
  /** Milliseconds since the entry before (0 for the first). */
  readonly sinceMs: number;
  readonly kind: TimelineKind;
  /** `forward` for a step's own command, `compensate` for its undoing; null for the saga's own entries. */
  readonly phase: "forward" | "compensate" | null;
  readonly step: string | null;
  readonly attempt: number | null;
  /** A retry's wait before its command is sent again. */
  readonly delayMs?: number;
  readonly code?: string;
  readonly message?: string;
  /** The command was sent and its outcome has not come back yet. */
  readonly awaiting?: boolean;
  /** The entry in words. */
  readonly label: string;
}

type Draft = Omit<TimelineEntry, "sinceMs" | "label">;

const OUTCOMES: Record<string, { kind: TimelineKind; phase: "forward" | "compensate" }> = {
  "step-succeeded": { kind: "succeeded", phase: "forward" },
  "step-failed": { kind: "failed", phase: "forward" },
  compensated: { kind: "compensated", phase: "compensate" },
  "compensation-failed": { kind: "compensation-failed", phase: "compensate" },
};

const ENDS: Record<string, TimelineKind> = {
  started: "started",
  completed: "completed",
  "compensated-all": "compensated-all",
  failed: "saga-failed",
  compensating: "compensating",
};

export function sagaTimeline(saga: Pick<SagaView, "history" | "status" | "step" | "attempt">): TimelineEntry[] {
  const drafts: Draft[] = [];
  /** When the last decision committed its command to the outbox, and a retry's delay after it. */
  let decidedAt = saga.history[0]?.at ?? "";
  let delayMs = 0;
  const sent = (step: string | null, attempt: number | null, phase: "forward" | "compensate", awaiting: boolean) =>
    drafts.push({
      at: new Date(Date.parse(decidedAt) + delayMs).toISOString(),
      kind: "sent",
      phase,
      step,
      attempt,
      ...(awaiting ? { awaiting } : {}),
    });
  let previous = "";
  for (const entry of saga.history) {
    // Entries of one decision share its time; an outcome opens a decision, so the last one came before it.
    const outcome = OUTCOMES[entry.entry];
    const detail = (entry.detail ?? {}) as { code?: string; message?: string; delayMs?: number };
    const error =
      detail.code === undefined ? {} : { code: detail.code, ...(detail.message ? { message: detail.message } : {}) };
    if (outcome !== undefined) {
      sent(entry.step, entry.attempt, outcome.phase, false);
      delayMs = 0;
      drafts.push({
        at: entry.at,
        kind: outcome.kind,
        phase: outcome.phase,
        step: entry.step,
        attempt: entry.attempt,
        ...error,
      });
    } else if (entry.entry === "retry-scheduled") {
      delayMs = detail.delayMs ?? 0;
      const phase = previous === "compensation-failed" ? "compensate" : "forward";
      drafts.push({ at: entry.at, kind: "retry", phase, step: entry.step, attempt: entry.attempt, delayMs });
    } else {
      const kind = ENDS[entry.entry];
      if (kind === undefined) continue;
      drafts.push({ at: entry.at, kind, phase: null, step: entry.step, attempt: null, ...error });
    }
    decidedAt = entry.at;
    previous = entry.entry;
  }
  if (saga.status === "running" || saga.status === "compensating") {
    sent(saga.step, saga.attempt, saga.status === "running" ? "forward" : "compensate", true);
  }
  let before = Date.parse(drafts[0]?.at ?? "");
  return drafts.map((d) => {
    const at = Date.parse(d.at);
    const entry = { ...d, sinceMs: Math.max(0, at - before), label: labelOf(d) };
    before = at;
    return entry;
  });
}

function labelOf(d: Draft): string {
  const step = d.step ?? "";
  const error = d.code === undefined ? "" : `: ${d.code}${d.message ? ` (${d.message})` : ""}`;
  switch (d.kind) {
    case "started":
      return "Saga started";
    case "sent":
      return `${d.phase === "compensate" ? `Compensation of ${step}` : `Step ${step}`} sent, attempt ${d.attempt}${d.awaiting ? ", awaiting its outcome" : ""}`;
    case "succeeded":
      return `Step ${step} succeeded`;
    case "failed":
      return `Step ${step} failed${error}`;
    case "retry":
      return `Retry ${d.phase === "compensate" ? `of the compensation of ${step}` : `of ${step}`} scheduled (attempt ${d.attempt}) in ${d.delayMs} ms`;
    case "compensating":
      return `Compensating from ${step}${error}`;
    case "compensated":
      return `Compensation of ${step} succeeded`;
    case "compensation-failed":
      return `Compensation of ${step} failed${error}`;
    case "completed":
      return "Saga completed";
    case "compensated-all":
      return "Saga compensated: every step done was undone";
    case "saga-failed":
      return `Saga failed at ${step}${error}`;
  }
}
