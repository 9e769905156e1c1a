/**
 * @module The benchmark's four-step saga on Flotilla: a participant service whose steps do trivial
 * work (a string built from the step id), and an orchestrating service that starts sagas and learns,
 * right after the commit of the decision that ended each one, how it ended. Every fourth saga's last
 * step fails terminally (`FAILED_PRECONDITION`), so its three earlier steps are compensated in reverse.
 *
 * Service names carry a tag, so every case has fresh databases and streams.
 */
import { action, type Context, defineContract, defineService, type ServiceDefinition } from "@flotilla/core";
import { database, type Kysely, type ServiceDatabase } from "@flotilla/data";
import { defineSaga, type StepInfo, sagaOrchestrator } from "@flotilla/saga";
import { z } from "zod";

/** How a saga ended: all four steps done, or turned back after the last one failed. */
export type Outcome = "completed" | "compensated";

/** Commands a saga sends: four forward steps; a failing one also three compensations. */
export const commandsOf = (outcome: Outcome): number => (outcome === "completed" ? 4 : 7);

/** Saga `i` of a run fails at its last step when this holds (one in four, in every peer alike). */
export const failsAt = (i: number): boolean => i % 4 === 3;

const Step = z.object({ stepId: z.string(), orderId: z.string() });
const Done = z.object({ ref: z.string() });
const Undo = z.object({ stepId: z.string() });
const Undone = z.object({ undone: z.boolean() });

export function stepsContract(service: string) {
  return defineContract({
    service,
    actions: {
      reserve: action({ input: Step, output: Done }),
      charge: action({ input: Step, output: Done }),
      ship: action({ input: Step, output: Done }),
      commit: action({ input: Step.extend({ fail: z.boolean() }), output: Done }),
      release: action({ input: Undo, output: Undone }),
      refund: action({ input: Undo, output: Undone }),
      cancelShipment: action({ input: Undo, output: Undone }),
    },
    errors: { REFUSED: "FAILED_PRECONDITION" },
  });
}
type Steps = ReturnType<typeof stepsContract>;

/** The participant: each step answers at once; `commit` refuses when the saga's input says so. */
export function stepsService(api: Steps): ServiceDefinition {
  const done = async ({ stepId }: { stepId: string }) => ({ ref: `ok:${stepId}` });
  const undone = async () => ({ undone: true });
  return defineService(api, {
    actions: {
      reserve: done,
      charge: done,
      ship: done,
      async commit({ stepId, fail }) {
        if (fail) throw api.error("REFUSED", `step ${stepId} refused`);
        return { ref: `ok:${stepId}` };
      },
      release: undone,
      refund: undone,
      cancelShipment: undone,
    },
  });
}

const Input = z.object({ orderId: z.string(), fail: z.boolean() });
type Input = z.infer<typeof Input>;

export interface Orchestrating {
  readonly definition: ServiceDefinition;
  /** Starts saga `id` (in a transaction of the orchestrator's database); resolves with how it ended. */
  run(id: string, fail: boolean): Promise<Outcome>;
}

/**
 * The orchestrating service. `run` starts a saga with the context the service's start hook got (the
 * same `ctx.db` and orchestrator an action has, without a request through the transport); the saga's
 * end hook resolves it from an after-commit callback of the deciding transaction.
 */
export function orchestrating(service: string, steps: Steps): Orchestrating {
  const forward = (step: StepInfo, input: Input) => ({ stepId: step.id, orderId: input.orderId });
  const undo = (_state: unknown, step: StepInfo) => ({ stepId: step.id });
  const waiting = new Map<string, (outcome: Outcome) => void>();
  let started: Context<Kysely<unknown>> | undefined;
  const ended =
    (outcome: Outcome) =>
    async ({ input }: { input: Input }) => {
      const db = started?.db as unknown as ServiceDatabase | undefined;
      const resolve = waiting.get(input.orderId);
      waiting.delete(input.orderId);
      db?.current()?.afterCommit.push(() => resolve?.(outcome));
    };
  const saga = defineSaga({ name: "bench", version: 1, input: Input })
    .step("reserve", {
      action: steps.reserve,
      input: ({ input }, step) => forward(step, input),
      compensate: { action: steps.release, input: undo },
    })
    .step("charge", {
      action: steps.charge,
      input: ({ input }, step) => forward(step, input),
      compensate: { action: steps.refund, input: undo },
    })
    .step("ship", {
      action: steps.ship,
      input: ({ input }, step) => forward(step, input),
      compensate: { action: steps.cancelShipment, input: undo },
    })
    .step("commit", {
      action: steps.commit,
      input: ({ input }, step) => ({ ...forward(step, input), fail: input.fail }),
    })
    .hooks<Kysely<unknown>>({
      onCompleted: ended("completed"),
      onCompensated: ended("compensated"),
      async onFailed(failure) {
        throw new Error(`a benchmark saga could not be compensated: ${JSON.stringify(failure)}`);
      },
    })
    .build();
  const sagas = sagaOrchestrator({ sagas: [saga] });
  const definition = defineService(defineContract({ service }), {
    database: database<unknown>({ migrations: {} }),
    orchestrators: [sagas],
    actions: {},
    start: async (ctx) => {
      started = ctx as Context<Kysely<unknown>>;
    },
  });
  return {
    definition,
    run(id, fail) {
      const ctx = started;
      if (ctx === undefined) return Promise.reject(new Error(`${service} has not started`));
      return new Promise<Outcome>((resolve, reject) => {
        waiting.set(id, resolve);
        sagas.start(ctx, saga, { orderId: id, fail }, { id }).then((r) => {
          if (!r.started) reject(new Error(`saga ${id} existed already`));
        }, reject);
      });
    },
  };
}
