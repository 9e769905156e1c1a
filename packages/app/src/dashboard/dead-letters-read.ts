/** @module What the Dead letters view shows of a letter: a summary in the list, the whole letter with its history, payloads redacted. */
import type { StoredDeadLetter } from "@flotilla/core";
import type { AuditEntry, AuditLog } from "./dashboard-context.js";
import type { DeclaredEvent } from "./event-flow-catalog.js";
import { shownData } from "./event-flow-catalog.js";

export interface LetterSummary {
  readonly id: string;
  readonly group: string;
  readonly type: string;
  readonly eventId: string;
  readonly attempts: number;
  readonly failedAt: string;
  readonly error: LetterError;
}

/**
 * The failure as the handler reported it. Its `details` are left out: a handler may put the event's data
 * there, and nothing marks which of it is sensitive.
 */
export interface LetterError {
  readonly code: string;
  readonly message: string;
}

export interface LetterDetails extends LetterSummary {
  readonly event: {
    readonly id: string;
    readonly type: string;
    readonly source: string;
    readonly time: string;
    readonly data: unknown;
  };
  readonly history: {
    /** Other letters of the same event (its other groups, or a retry that failed again), oldest first. */
    readonly sameEvent: readonly LetterSummary[];
    /** What was done through the dashboard to letters of this event, newest first. */
    readonly audit: readonly AuditEntry[];
  };
}

/** The audit target of an action on a letter: its event first, so a prefix finds every letter of the event. */
export function auditTarget(letter: StoredDeadLetter): string {
  return `${eventTarget(letter.event.id)}letter ${letter.id}`;
}

function eventTarget(eventId: string): string {
  return `event ${eventId} `;
}

export function summarize(letter: StoredDeadLetter): LetterSummary {
  return {
    id: letter.id,
    group: letter.group,
    type: letter.event.type,
    eventId: letter.event.id,
    attempts: letter.attempts,
    failedAt: letter.failedAt,
    error: errorOf(letter.error),
  };
}

export async function details(
  letter: StoredDeadLetter,
  all: readonly StoredDeadLetter[],
  events: Map<string, DeclaredEvent>,
  audit: AuditLog | undefined,
): Promise<LetterDetails> {
  const { event } = letter;
  return {
    ...summarize(letter),
    event: {
      id: event.id,
      type: event.type,
      source: event.source,
      time: event.time,
      data: shownData(events, event.type, event.data),
    },
    history: {
      sameEvent: all.filter((l) => l.event.id === event.id && l.id !== letter.id).map(summarize),
      audit: (await audit?.list({ target: eventTarget(event.id), limit: 50 })) ?? [],
    },
  };
}

function errorOf(error: unknown): LetterError {
  if (typeof error !== "object" || error === null) return { code: "UNKNOWN", message: String(error) };
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    code: typeof code === "string" ? code : "UNKNOWN",
    message: typeof message === "string" ? message : "",
  };
}
