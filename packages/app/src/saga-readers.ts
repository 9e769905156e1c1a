/**
 * @module The sagas of this process's services, read in place: one reader per service whose saga
 * orchestrators run here, bound to its instance's database. What leaves the service is what operations
 * need (summaries, the journal, counts), never a saga's input nor its steps' outputs.
 */
import { FlotillaError, type Host } from "@flotilla/core";
import {
  isSagaOrchestrator,
  type SagaCount,
  type SagaDetails,
  type SagaFilter,
  type SagaHistoryEntry,
  type SagaOrchestrator,
  type SagaStatus,
  type SagaSummary,
} from "@flotilla/saga";

/**
 * A saga as it may be shown outside its service. The input is left out (the shop's holds a card
 * number) and so are the steps' outputs, which are the participants' own data and may be as
 * sensitive; only the names of the steps that produced one are kept.
 */
export interface SagaView extends SagaSummary {
  readonly history: readonly SagaHistoryEntry[];
  /** Steps that succeeded, whose outputs the saga keeps (in the service only). */
  readonly stepsDone: readonly string[];
}

export interface SagaReader {
  readonly service: string;
  /** Most recently updated first. */
  list(filter?: SagaFilter): Promise<SagaSummary[]>;
  get(id: string): Promise<SagaView | undefined>;
  counts(): Promise<SagaCount[]>;
}

/**
 * One reader per service running here with saga orchestrators. A service's sagas share one table, so
 * its first saga orchestrator reads them all (another's steps show by their index).
 */
export function sagaReaders(host: Pick<Host, "orchestrators">): SagaReader[] {
  const byService = new Map<string, { orchestrator: SagaOrchestrator; db: unknown; all: SagaOrchestrator[] }>();
  for (const { service, orchestrator, db } of host.orchestrators()) {
    if (!isSagaOrchestrator(orchestrator)) continue;
    const found = byService.get(service);
    if (found === undefined) byService.set(service, { orchestrator, db, all: [orchestrator] });
    else found.all.push(orchestrator);
  }
  return [...byService].map(([service, { orchestrator, db, all }]) => ({
    service,
    list: (filter) => orchestrator.list(db, filter),
    async get(id) {
      const saga = await orchestrator.get(db, id);
      return saga === undefined ? undefined : sagaView(saga);
    },
    async counts() {
      return (await Promise.all(all.map((o) => o.counts()))).flat();
    },
  }));
}

export function sagaView(saga: SagaDetails): SagaView {
  const { input: _input, outputs, history, ...summary } = saga;
  return { ...summary, history, stepsDone: Object.keys(outputs) };
}

const STATUSES: ReadonlySet<string> = new Set(["running", "compensating", "completed", "compensated", "failed"]);

/**
 * A filter from `status`, `type`, `limit` and `updatedBefore` query parameters (the ops port's and the
 * dashboard's); INVALID_ARGUMENT for a value the query could not mean.
 */
export function sagaFilterFromParams(params: URLSearchParams): SagaFilter {
  const status = params.get("status") || undefined;
  if (status !== undefined && !STATUSES.has(status)) {
    throw new FlotillaError("INVALID_ARGUMENT", `status must be one of ${[...STATUSES].join(", ")}, got "${status}"`);
  }
  const type = params.get("type") || undefined;
  const limit = wholeNumber(params, "limit", 1, 500);
  const updatedBefore = wholeNumber(params, "updatedBefore", 0, Number.MAX_SAFE_INTEGER);
  return {
    ...(status === undefined ? {} : { status: status as SagaStatus }),
    ...(type === undefined ? {} : { type }),
    ...(limit === undefined ? {} : { limit }),
    ...(updatedBefore === undefined ? {} : { updatedBefore }),
  };
}

function wholeNumber(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const value = params.get(name);
  if (value === null || value === "") return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new FlotillaError("INVALID_ARGUMENT", `${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** Sagas of several services in one list: most recently updated first, at most `limit` (50). */
export function newestFirst<T extends SagaSummary>(sagas: readonly T[], limit = 50): T[] {
  return [...sagas].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id)).slice(0, limit);
}
