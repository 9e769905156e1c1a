/**
 * @module The typed saga builder: each step names a forward action and its compensation, and the
 * compiler checks that what a step sends is built from the input and the outputs of earlier steps.
 */
import {
  type ActionRef,
  type Context,
  FlotillaCodes,
  FlotillaError,
  type InputOf,
  type OutputOf,
  type Schema,
} from "@flotilla/core";
import type { z } from "zod";

/** Where a step runs: its id is stable across attempts and crashes, so participants key their effects by it. */
export interface StepInfo {
  /** `<saga id>:<step name>`: the same for every attempt of the step and for its compensation. */
  readonly id: string;
  readonly sagaId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export interface RetryPolicy {
  /** Attempts of a step before a retryable failure counts as terminal (default 8). */
  readonly maxAttempts?: number;
  /** Delay before the second attempt (default 100 ms), doubled each time up to `maxDelayMs` (default 5 s), with jitter. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** Why a saga turned back. */
export interface SagaFailure {
  /** The step that failed (or the step that was due when the saga timed out). */
  readonly step: string;
  readonly code: string;
  readonly message: string;
  /**
   * The step may have had an effect (it timed out, or its service failed unexpectedly): it is
   * compensated too. A failure the action's contract declares (a declined card) is definite: not.
   */
  readonly ambiguous: boolean;
  /**
   * What each compensation that ran answered, by step name: after an ambiguous failure, whether the
   * step had taken effect is what its compensation found (e.g. whether a refund gave money back).
   */
  readonly undone?: Readonly<Record<string, unknown>>;
}

/** What a step's mappers see: the saga's input and the output of each step finished before it. */
export type SagaState = { readonly input: unknown } & Readonly<Record<string, unknown>>;

export interface StepSpec<S, A extends ActionRef, C extends ActionRef> {
  readonly action: A;
  /** The forward action's input, from what is known before this step. */
  input(state: S, step: StepInfo): InputOf<A>;
  /**
   * Undoes the step: run in reverse order when a later step fails terminally or the saga times out.
   * It sees only what was known before the step (a step compensated after an ambiguous failure has no
   * output): key it by `step.id`. Compensations are retried until they succeed. Without one, the step
   * is one nothing undoes (e.g. the last, that makes the outcome final): after an ambiguous failure it is
   * asked again, like a compensation and past the saga's deadline, until it answers definitely.
   */
  readonly compensate?: { readonly action: C; input(state: S, step: StepInfo): InputOf<C> };
  /** Timeout of one attempt (default: the action's own, else 10 s). */
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
}

/** A step as the orchestrator runs it: types erased. */
export interface StepDefinition {
  readonly name: string;
  readonly action: ActionRef;
  readonly input: (state: SagaState, step: StepInfo) => unknown;
  readonly compensate:
    | { readonly action: ActionRef; readonly input: (state: SagaState, step: StepInfo) => unknown }
    | undefined;
  readonly timeoutMs: number;
  readonly retry: Required<RetryPolicy>;
}

/** Local effects in the orchestrator's own database, in the transaction that finishes the saga. */
export interface SagaHooks<S, DB> {
  /** Every step succeeded (e.g. the order is confirmed). */
  onCompleted?(state: S, ctx: Context<DB>): Promise<void>;
  /** A step failed or the saga timed out, and every compensation succeeded (e.g. the order is rejected). */
  onCompensated?(
    state: Partial<S> & { readonly input: S extends { input: infer I } ? I : never },
    failure: SagaFailure,
    ctx: Context<DB>,
  ): Promise<void>;
  /** A compensation failed terminally: the saga needs an operator (it stays listed as `failed`). */
  onFailed?(failure: SagaFailure, ctx: Context<DB>): Promise<void>;
}

/** A saga definition: one version of one saga type. */
export interface SagaDefinition<Input = unknown> {
  readonly kind: "saga";
  readonly name: string;
  readonly version: number;
  readonly input: Schema;
  readonly steps: readonly StepDefinition[];
  readonly timeoutMs: number;
  readonly hooks: SagaHooks<SagaState, unknown>;
  /** Type carrier only. */
  readonly __input?: Input;
}

export interface SagaOptions<I extends Schema> {
  /** The saga type: `[a-z][a-z0-9-]*`. */
  readonly name: string;
  /** Bump when steps change in a way an instance in flight could not follow; both versions stay registered while old instances finish. */
  readonly version: number;
  readonly input: I;
  /** After this the saga compensates instead of taking its next step (default 60 s). */
  readonly timeoutMs?: number;
  /** Default retry policy of its steps. */
  readonly retry?: RetryPolicy;
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const STEP_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const DEFAULT_STEP_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY: Required<RetryPolicy> = { maxAttempts: 8, initialDelayMs: 100, maxDelayMs: 5_000 };

export class SagaBuilder<Input, S, DB = unknown> {
  private constructor(
    private readonly options: SagaOptions<Schema>,
    private readonly steps: readonly StepDefinition[],
    private readonly sagaHooks: SagaHooks<S, DB>,
  ) {}

  /** @internal */
  static start<I extends Schema>(options: SagaOptions<I>): SagaBuilder<z.output<I>, { readonly input: z.output<I> }> {
    if (!NAME.test(options.name)) throw config(`saga name "${options.name}" must match ${NAME}`);
    if (!Number.isInteger(options.version) || options.version < 1) {
      throw config(`saga ${options.name}: version must be a positive integer`);
    }
    return new SagaBuilder(options, [], {});
  }

  /** Adds a step; its output is known to later steps as `state.<name>`. */
  step<N extends string, A extends ActionRef, C extends ActionRef = ActionRef>(
    name: N extends keyof S ? never : N,
    spec: StepSpec<S, A, C>,
  ): SagaBuilder<Input, S & { readonly [K in N]: OutputOf<A> }, DB> {
    if (!STEP_NAME.test(name) || name === "input") throw config(`saga ${this.options.name}: bad step name "${name}"`);
    if (this.steps.some((s) => s.name === name)) throw config(`saga ${this.options.name}: step "${name}" twice`);
    const retry = { ...DEFAULT_RETRY, ...this.options.retry, ...spec.retry };
    const step: StepDefinition = {
      name,
      action: spec.action,
      input: spec.input as StepDefinition["input"],
      compensate: spec.compensate as StepDefinition["compensate"],
      timeoutMs: spec.timeoutMs ?? spec.action.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
      retry,
    };
    return new SagaBuilder(this.options, [...this.steps, step], this.sagaHooks as SagaHooks<never, DB>);
  }

  /** The local effects that finish the saga, in the orchestrator's service (typed by its database). */
  hooks<D>(hooks: SagaHooks<S, D>): SagaBuilder<Input, S, D> {
    return new SagaBuilder(this.options, this.steps, hooks);
  }

  build(): SagaDefinition<Input> {
    if (this.steps.length === 0) throw config(`saga ${this.options.name} has no steps`);
    return Object.freeze({
      kind: "saga",
      name: this.options.name,
      version: this.options.version,
      input: this.options.input,
      steps: this.steps,
      timeoutMs: this.options.timeoutMs ?? 60_000,
      hooks: this.sagaHooks as SagaHooks<SagaState, unknown>,
    });
  }
}

/** Starts a saga definition: `defineSaga({ name, version, input }).step(…).step(…).hooks({…}).build()`. */
export function defineSaga<I extends Schema>(options: SagaOptions<I>) {
  return SagaBuilder.start(options);
}

function config(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
