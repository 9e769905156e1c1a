/**
 * @module What a saga does next, as a pure function of its stored state and an outcome: no database,
 * no clock of its own, so every branch is tested directly and a crash can only happen before or after
 * a decision is stored, never inside one.
 */
import { type CommandOutcome, FlotillaCodes, type FlotillaError, type Status } from "@flotilla/core";
import type { SagaDefinition, SagaFailure, StepDefinition } from "./define-saga.js";

export type SagaStatus = "running" | "compensating" | "completed" | "compensated" | "failed";
export type Phase = "forward" | "compensate";

/** The stored failure, with the index of the step it concerns. */
export interface StoredFailure extends SagaFailure {
  readonly index: number;
}

/** What a saga keeps between steps (the `state` column). */
export interface StoredState {
  readonly input: unknown;
  /** Output of each finished forward step, by name. */
  readonly steps: Readonly<Record<string, unknown>>;
  /** Trace context and correlation id of the request that started it: its commands continue that trace. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface SagaPosition {
  readonly status: SagaStatus;
  readonly step: number;
  readonly attempt: number;
  readonly state: StoredState;
  readonly failure: StoredFailure | null;
  readonly deadlineAt: number;
}

/** The position a command was sent from: an outcome for any other position is stale and ignored. */
export interface CommandTag {
  readonly saga: string;
  readonly step: number;
  readonly phase: Phase;
  readonly attempt: number;
}

export interface JournalNote {
  readonly entry: string;
  readonly step: string | null;
  readonly attempt: number | null;
  readonly detail?: Record<string, unknown>;
}

/** The next command to store, if any. */
export interface NextCommand {
  readonly step: number;
  readonly phase: Phase;
  readonly attempt: number;
  readonly delayMs: number;
}

export interface Decision {
  readonly position: SagaPosition;
  readonly notes: readonly JournalNote[];
  readonly command: NextCommand | undefined;
  /** Set when the saga just ended: which hook runs in the deciding transaction. */
  readonly finished: "completed" | "compensated" | "failed" | undefined;
}

/**
 * Compensations, and steps that nothing undoes once they may have taken effect, are retried far longer
 * than forward steps: giving up leaves effects behind.
 */
const COMPENSATION_ATTEMPTS = 50;
const SAGA_TIMEOUT = FlotillaCodes.SAGA_TIMEOUT.code;

/** Statuses that say the action did nothing and never will for this input: not retried. */
const DEFINITE: ReadonlySet<Status> = new Set([
  "INVALID_ARGUMENT",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "FAILED_PRECONDITION",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "UNAUTHENTICATED",
]);

export function tagMatches(position: SagaPosition, tag: CommandTag): boolean {
  const phase: Phase | undefined =
    position.status === "running" ? "forward" : position.status === "compensating" ? "compensate" : undefined;
  return phase === tag.phase && position.step === tag.step && position.attempt === tag.attempt;
}

/**
 * A failure is terminal when the action's contract declares its code with a status that is not
 * worth retrying (a declined card), or its status says the request itself is wrong. Everything else
 * (timeouts, unavailable services, unexpected faults) is retried.
 */
export function isTerminal(step: StepDefinition["action"], error: FlotillaError): boolean {
  const declared = step.errors[error.code];
  if (declared !== undefined) return !error.retryable;
  return DEFINITE.has(error.status);
}

export function backoffMs(retry: StepDefinition["retry"], attempt: number, random: number): number {
  const base = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + random / 2));
}

/** The first step of a new saga. */
export function begin(def: SagaDefinition, state: StoredState, now: number): Decision {
  const position: SagaPosition = {
    status: "running",
    step: 0,
    attempt: 1,
    state,
    failure: null,
    deadlineAt: now + def.timeoutMs,
  };
  return {
    position,
    notes: [{ entry: "started", step: null, attempt: null, detail: { version: def.version } }],
    command: { step: 0, phase: "forward", attempt: 1, delayMs: 0 },
    finished: undefined,
  };
}

export function decide(
  def: SagaDefinition,
  position: SagaPosition,
  phase: Phase,
  outcome: CommandOutcome,
  now: number,
  random: number,
): Decision {
  return phase === "forward"
    ? forward(def, position, outcome, now, random)
    : compensation(def, position, outcome, random);
}

function forward(def: SagaDefinition, p: SagaPosition, outcome: CommandOutcome, now: number, random: number): Decision {
  const step = def.steps[p.step] as StepDefinition;
  if (outcome.ok) {
    const state = { ...p.state, steps: { ...p.state.steps, [step.name]: outcome.value } };
    const done: JournalNote = { entry: "step-succeeded", step: step.name, attempt: p.attempt };
    const next = p.step + 1;
    if (next === def.steps.length) {
      const position: SagaPosition = { ...p, status: "completed", state };
      return {
        position,
        notes: [done, { entry: "completed", step: null, attempt: null }],
        command: undefined,
        finished: "completed",
      };
    }
    const after = { ...p, state };
    if (now >= p.deadlineAt) {
      const due = def.steps[next] as StepDefinition;
      const failure = {
        step: due.name,
        index: next,
        code: SAGA_TIMEOUT,
        message: `saga timed out before ${due.name}`,
        ambiguous: false,
      };
      return turnBack(def, after, failure, [done]);
    }
    return {
      position: { ...after, step: next, attempt: 1 },
      notes: [done],
      command: { step: next, phase: "forward", attempt: 1, delayMs: 0 },
      finished: undefined,
    };
  }
  const { error } = outcome;
  const failed: JournalNote = {
    entry: "step-failed",
    step: step.name,
    attempt: p.attempt,
    detail: { code: error.code, message: error.message },
  };
  const terminal = isTerminal(step.action, error);
  if (!terminal && step.compensate === undefined) return askAgain(p, step, error, failed, random);
  if (!terminal && p.attempt < step.retry.maxAttempts) {
    const delayMs = backoffMs(step.retry, p.attempt, random);
    if (now + delayMs < p.deadlineAt) return retryLater(p, step, "forward", failed, delayMs);
    const failure = {
      step: step.name,
      index: p.step,
      code: SAGA_TIMEOUT,
      message: `saga timed out retrying ${step.name}: ${error.message}`,
      ambiguous: true,
    };
    return turnBack(def, p, failure, [failed]);
  }
  // A step that kept failing for reasons other than its own answer may have done something: undo it too.
  const failure = { step: step.name, index: p.step, code: error.code, message: error.message, ambiguous: !terminal };
  return turnBack(def, p, failure, [failed]);
}

/**
 * A step without a compensation that failed ambiguously (it may have taken effect: an earlier send of
 * this attempt may have been carried out, its answer lost) cannot be turned back from: its effect would
 * stay while everything before it is undone. It is asked again (participants key effects by step id)
 * until it answers definitely, past its attempts and the saga's deadline: success goes on, a terminal
 * failure turns back. Giving up leaves the saga failed, for an operator.
 */
function askAgain(
  p: SagaPosition,
  step: StepDefinition,
  error: FlotillaError,
  failed: JournalNote,
  random: number,
): Decision {
  if (p.attempt < COMPENSATION_ATTEMPTS) {
    const delayMs = backoffMs(step.retry, p.attempt, random);
    const retry: JournalNote = {
      entry: "retry-scheduled",
      step: step.name,
      attempt: p.attempt + 1,
      detail: { delayMs },
    };
    return {
      position: { ...p, attempt: p.attempt + 1 },
      notes: [failed, retry],
      command: { step: p.step, phase: "forward", attempt: p.attempt + 1, delayMs },
      finished: undefined,
    };
  }
  const failure: StoredFailure = {
    step: step.name,
    index: p.step,
    code: error.code,
    message: `${step.name} may have taken effect, and has no compensation: ${error.message}`,
    ambiguous: true,
  };
  return {
    position: { ...p, status: "failed", failure },
    notes: [failed, { entry: "failed", step: step.name, attempt: null, detail: { code: error.code } }],
    command: undefined,
    finished: "failed",
  };
}

function compensation(def: SagaDefinition, p: SagaPosition, outcome: CommandOutcome, random: number): Decision {
  const step = def.steps[p.step] as StepDefinition;
  const failure = p.failure as StoredFailure;
  if (outcome.ok) {
    const note: JournalNote = { entry: "compensated", step: step.name, attempt: p.attempt };
    const undone = { ...failure, undone: { ...failure.undone, [step.name]: outcome.value } };
    return continueBack(def, p, undone, p.step - 1, [note]);
  }
  const { error } = outcome;
  const failed: JournalNote = {
    entry: "compensation-failed",
    step: step.name,
    attempt: p.attempt,
    detail: { code: error.code, message: error.message },
  };
  const action = step.compensate?.action ?? step.action;
  if (!isTerminal(action, error) && p.attempt < COMPENSATION_ATTEMPTS) {
    return retryLater(p, step, "compensate", failed, backoffMs(step.retry, p.attempt, random));
  }
  const stuck: StoredFailure = {
    step: step.name,
    index: p.step,
    code: error.code,
    message: `compensation of ${step.name} failed: ${error.message}`,
    ambiguous: true,
  };
  return {
    position: { ...p, status: "failed", failure: { ...failure, message: `${failure.message}; ${stuck.message}` } },
    notes: [failed, { entry: "failed", step: step.name, attempt: null, detail: { code: error.code } }],
    command: undefined,
    finished: "failed",
  };
}

/** The same step again, `delayMs` from now (the command waits in the outbox). */
function retryLater(
  p: SagaPosition,
  step: StepDefinition,
  phase: Phase,
  failed: JournalNote,
  delayMs: number,
): Decision {
  const attempt = p.attempt + 1;
  const retry: JournalNote = { entry: "retry-scheduled", step: step.name, attempt, detail: { delayMs } };
  return {
    position: { ...p, attempt },
    notes: [failed, retry],
    command: { step: p.step, phase, attempt, delayMs },
    finished: undefined,
  };
}

/** Starts compensating from the failed step (if ambiguous) or the one before it. */
function turnBack(def: SagaDefinition, p: SagaPosition, failure: StoredFailure, notes: JournalNote[]): Decision {
  const turned: JournalNote = {
    entry: "compensating",
    step: failure.step,
    attempt: null,
    detail: { code: failure.code, message: failure.message },
  };
  return continueBack(def, { ...p, failure }, failure, failure.index, [...notes, turned]);
}

function continueBack(
  def: SagaDefinition,
  p: SagaPosition,
  failure: StoredFailure,
  from: number,
  notes: JournalNote[],
): Decision {
  for (let i = from; i >= 0; i--) {
    const step = def.steps[i] as StepDefinition;
    if (step.compensate === undefined) continue;
    const finished = step.name in p.state.steps;
    if (finished || (i === failure.index && failure.ambiguous)) {
      return {
        position: { ...p, status: "compensating", step: i, attempt: 1, failure },
        notes,
        command: { step: i, phase: "compensate", attempt: 1, delayMs: 0 },
        finished: undefined,
      };
    }
  }
  return {
    position: { ...p, status: "compensated", failure },
    notes: [...notes, { entry: "compensated-all", step: null, attempt: null }],
    command: undefined,
    finished: "compensated",
  };
}
