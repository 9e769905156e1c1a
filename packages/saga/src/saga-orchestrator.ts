/**
 * @module The saga orchestrator a service runs: starts sagas in the caller's transaction, stores each
 * decision with the command that carries it out (one transaction, through the service's outbox), and
 * advances when a command's outcome comes back.
 */
import {
  type ActionRef,
  type AttachedOrchestrator,
  type CommandEnvelope,
  type CommandOutcome,
  type Context,
  FlotillaCodes,
  FlotillaError,
  formatTraceparent,
  Headers,
  newTraceContext,
  type OrchestratorDefinition,
  type OrchestratorRuntime,
  parseOrThrow,
  parseTraceparent,
  type TraceContext,
} from "@flotilla/core";
import { joinable, type ServiceDatabase } from "@flotilla/data/internal";
import type { Kysely } from "kysely";
import {
  begin,
  type CommandTag,
  type Decision,
  decide,
  type Phase,
  type SagaPosition,
  type StoredState,
  tagMatches,
} from "./decide.js";
import type { SagaDefinition, SagaState, StepDefinition } from "./define-saga.js";
import {
  countSagas,
  getSaga,
  listSagas,
  type SagaCount,
  type SagaDetails,
  type SagaFilter,
  type SagaSummary,
} from "./saga-queries.js";
import { sendStep, settleStep } from "./saga-spans.js";
import { appendJournal, insertSaga, loadSaga, type SagaDb, updateSaga, versionsInFlight } from "./saga-store.js";

export interface SagaOrchestratorOptions {
  /** Names the orchestrator within its service (default `sagas`); stored in its commands, so keep it stable. */
  readonly name?: string;
  /** Every definition an instance in flight may need: the newest version of each type starts new sagas. */
  readonly sagas: readonly SagaDefinition[];
}

export interface StartOptions {
  /** The saga's id (e.g. the order id): starting one that exists is a no-op, so a retried request starts one saga. */
  readonly id: string;
}

export interface SagaOrchestrator extends OrchestratorDefinition {
  /**
   * Starts a saga in the transaction running on `ctx.db` (or in one of its own): its row, its journal
   * and its first command commit with the caller's own writes, or not at all.
   */
  start<I>(ctx: Context, saga: SagaDefinition<I>, input: I, options: StartOptions): Promise<{ started: boolean }>;
  /** Sagas in the service's database, most recently updated first. */
  list(db: unknown, filter?: SagaFilter): Promise<SagaSummary[]>;
  /** One saga with its input, outputs and journal; undefined when there is none by that id. */
  get(db: unknown, id: string): Promise<SagaDetails | undefined>;
  /** Its sagas by type, version and status, read from the database of an instance it runs in (none: empty). */
  counts(): Promise<SagaCount[]>;
}

/** Every orchestrator made here, so a service's orchestrators can be told apart from others. */
const made = new WeakSet<OrchestratorDefinition>();

export function isSagaOrchestrator(orchestrator: OrchestratorDefinition): orchestrator is SagaOrchestrator {
  return made.has(orchestrator);
}

type Db = ServiceDatabase<unknown> & SagaDb;

export function sagaOrchestrator(options: SagaOrchestratorOptions): SagaOrchestrator {
  const name = options.name ?? "sagas";
  const definitions = new Map<string, SagaDefinition>();
  const newest = new Map<string, number>();
  for (const saga of options.sagas) {
    const key = `${saga.name}@${saga.version}`;
    if (definitions.has(key)) throw config(`saga ${key} is registered twice`);
    definitions.set(key, saga);
    newest.set(saga.name, Math.max(newest.get(saga.name) ?? 0, saga.version));
  }
  const runtimes = new Map<string, OrchestratorRuntime>();

  const definitionOf = (type: string, version: number): SagaDefinition => {
    const def = definitions.get(`${type}@${version}`);
    if (def === undefined) throw config(`saga ${type} version ${version} has no definition in this build`);
    return def;
  };

  /** Stores a decision; its command (if any) joins the same transaction through the outbox. */
  const apply = (sagaId: string, def: SagaDefinition, first: Decision) => {
    let decision = first;
    const notes = [...decision.notes];
    const now = Date.now();
    let message: ReturnType<typeof command> | undefined;
    while (decision.command !== undefined) {
      try {
        message = command(name, sagaId, def, decision.position, decision.command, now);
        break;
      } catch (err) {
        // A step whose input cannot be built fails like a step the service refused: definitely.
        const error = FlotillaError.from(err);
        const failed = FlotillaError.of(FlotillaCodes.SAGA_STEP_INPUT, `saga ${def.name}: ${error.message}`);
        decision = decide(
          def,
          decision.position,
          decision.command.phase,
          { ok: false, error: failed },
          now,
          Math.random(),
        );
        notes.push(...decision.notes);
      }
    }
    return { decision, notes, message, now };
  };

  const attach = async (runtime: OrchestratorRuntime): Promise<AttachedOrchestrator> => {
    const db = runtime.db as Db;
    const missing = (await versionsInFlight(db)).filter(
      (v) => [...newest.keys()].includes(v.type) && !definitions.has(`${v.type}@${v.version}`),
    );
    if (missing.length > 0) {
      const list = missing.map((m) => `${m.type} v${m.version} (${m.count} in flight)`).join(", ");
      throw config(
        `${runtime.service}: sagas in flight have no definition: ${list}; keep old versions registered until their instances finish`,
      );
    }
    runtimes.set(runtime.instance, runtime);

    const settle = async (envelope: CommandEnvelope, outcome: CommandOutcome): Promise<void> => {
      const tag = envelope.tag as CommandTag;
      await db.run(async (trx) => {
        const tx = trx as unknown as SagaDb;
        const saga = await loadSaga(tx, tag.saga);
        if (saga === undefined || !tagMatches(saga, tag)) {
          runtime.log.debug({ saga: tag.saga, command: envelope.id }, "outcome of a command already settled; ignored");
          return;
        }
        const def = definitionOf(saga.type, saga.version);
        await settleStep(runtime, def, envelope, outcome, async (parent, finished) => {
          const decided = decide(def, saga, tag.phase, outcome, Date.now(), Math.random());
          const { decision, notes, message, now } = apply(saga.id, def, decided);
          if (!(await updateSaga(tx, saga.id, saga.rev, decision.position, now))) {
            throw FlotillaError.of(
              FlotillaCodes.SAGA_CONFLICT,
              `saga ${saga.id} changed while settling ${envelope.id}`,
            );
          }
          await appendJournal(tx, saga.id, notes, now);
          if (message !== undefined) await sendStep(runtime, def, parent ?? storedTrace(saga.state), message);
          if (decision.finished !== undefined) finished(decision.finished);
          await finish(runtime, trx, def, decision, parent);
        });
      });
    };
    return {
      settle,
      async stop() {
        runtimes.delete(runtime.instance);
      },
    };
  };

  const stepNames = (type: string, version: number) => definitions.get(`${type}@${version}`)?.steps.map((s) => s.name);
  const orchestrator: SagaOrchestrator = {
    kind: "orchestrator",
    name,
    calls: stepTargets(options.sagas),
    attach,
    list: (db, filter) => listSagas(db as Kysely<unknown>, stepNames, filter),
    get: (db, id) => getSaga(db as Kysely<unknown>, stepNames, id),
    async counts() {
      // Instances of one service share its database: any attached one answers for all.
      const runtime = runtimes.values().next().value;
      if (runtime === undefined) return [];
      return countSagas(runtime.db as Kysely<unknown>, [...newest.keys()]);
    },
    async start(ctx, saga, input, { id }) {
      const runtime = runtimes.get(ctx.instance ?? "");
      if (runtime === undefined) throw config(`saga ${saga.name}: this service runs no orchestrator "${name}"`);
      const def = definitions.get(`${saga.name}@${saga.version}`);
      if (def === undefined) throw config(`saga ${saga.name} v${saga.version} is not registered with "${name}"`);
      if (newest.get(def.name) !== def.version) {
        throw config(`saga ${def.name}: new instances start on v${newest.get(def.name)}, not v${def.version}`);
      }
      const valid = parseOrThrow(def.input, input, `input of saga ${def.name}`);
      const db = runtime.db as Db;
      return db.run(async (trx) => {
        const tx = trx as unknown as SagaDb;
        if ((await loadSaga(tx, id)) !== undefined) return { started: false };
        const headers: Record<string, string> = {
          [Headers.traceparent]: formatTraceparent(ctx.trace),
          [Headers.correlationId]: ctx.correlationId,
          ...(ctx.baggage === undefined ? {} : { [Headers.baggage]: ctx.baggage }),
        };
        const state: StoredState = { input: valid, steps: {}, headers };
        const { decision, notes, message, now } = apply(id, def, begin(def, state, Date.now()));
        await insertSaga(tx, { id, type: def.name, version: def.version }, decision.position, now);
        await appendJournal(tx, id, notes, now);
        if (message !== undefined) await sendStep(runtime, def, ctx.trace, message);
        await finish(runtime, trx, def, decision, ctx.trace);
        return { started: true };
      });
    },
  };
  made.add(orchestrator);
  return orchestrator;
}

/** The command that carries a decision out, built from the saga's state as the step's mapper says. */
function command(
  replyTo: string,
  sagaId: string,
  def: SagaDefinition,
  position: SagaPosition,
  next: NonNullable<Decision["command"]>,
  now: number,
) {
  const step = def.steps[next.step] as StepDefinition;
  const spec = next.phase === "forward" ? step : step.compensate;
  if (spec === undefined) throw new Error(`step ${step.name} has no compensation`);
  const info = { id: `${sagaId}:${step.name}`, sagaId, attempt: next.attempt };
  const view: SagaState = { ...position.state.steps, input: position.state.input };
  const payload = parseOrThrow(spec.action.input, spec.input(view, info), `input of ${def.name}.${step.name}`);
  const tag: CommandTag = { saga: sagaId, step: next.step, phase: next.phase as Phase, attempt: next.attempt };
  const envelope: CommandEnvelope = {
    id: `${sagaId}:${step.name}:${next.phase}:${next.attempt}`,
    service: spec.action.service,
    action: spec.action.fqn,
    payload,
    headers: position.state.headers,
    timeoutMs: step.timeoutMs,
    replyTo,
    tag,
  };
  return next.delayMs > 0
    ? { kind: "command" as const, envelope, notBefore: now + next.delayMs }
    : { kind: "command" as const, envelope };
}

/** A saga that just ended runs its hook in the deciding transaction: the local effect commits with it. */
async function finish(
  runtime: OrchestratorRuntime,
  trx: unknown,
  def: SagaDefinition,
  decision: Decision,
  trace?: TraceContext,
) {
  if (decision.finished === undefined) return;
  const ctx = runtime.context();
  // What the hook emits continues the saga's trace.
  if (trace !== undefined) ctx.trace = trace;
  ctx.db = joinable(trx as Parameters<typeof joinable>[0]);
  const { state, failure } = decision.position;
  const view: SagaState = { ...state.steps, input: state.input };
  if (decision.finished === "completed") await def.hooks.onCompleted?.(view, ctx);
  else if (decision.finished === "compensated") await def.hooks.onCompensated?.(view, publicFailure(failure), ctx);
  else await def.hooks.onFailed?.(publicFailure(failure), ctx);
}

function publicFailure(failure: SagaPosition["failure"]) {
  if (failure === null) throw new Error("a saga turned back without a failure");
  const { index: _index, ...rest } = failure;
  return rest;
}

/** The trace of the request that started a saga, from its stored headers (a fresh one if they hold none). */
function storedTrace(state: StoredState): TraceContext {
  return parseTraceparent(state.headers[Headers.traceparent]) ?? newTraceContext();
}

function config(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}

/** Every action a step or compensation of these sagas targets, once each. */
function stepTargets(sagas: readonly SagaDefinition[]): ActionRef[] {
  const targets = new Map<string, ActionRef>();
  for (const step of sagas.flatMap((saga) => saga.steps)) {
    targets.set(step.action.fqn, step.action);
    if (step.compensate !== undefined) targets.set(step.compensate.action.fqn, step.compensate.action);
  }
  return [...targets.values()];
}
