/** @module Saga instances as operations (and a dashboard) see them: state, step, history and timings. */
import type { SagasTable } from "@flotilla/data/internal";
import type { Kysely, Selectable } from "kysely";
import type { SagaStatus, StoredFailure, StoredState } from "./decide.js";
import type { SagaDb } from "./saga-store.js";

export interface SagaSummary {
  readonly id: string;
  readonly type: string;
  readonly version: number;
  readonly status: SagaStatus;
  /** The step whose command is in flight, or the last one it reached. */
  readonly step: string;
  readonly attempt: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  /** Milliseconds from start to finish (or to now, while it runs). */
  readonly durationMs: number;
  readonly failure: { step: string; code: string; message: string } | null;
}

export interface SagaHistoryEntry {
  readonly at: string;
  readonly entry: string;
  readonly step: string | null;
  readonly attempt: number | null;
  readonly detail: unknown;
}

export interface SagaDetails extends SagaSummary {
  readonly input: unknown;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly history: readonly SagaHistoryEntry[];
}

export interface SagaFilter {
  readonly status?: SagaStatus;
  readonly type?: string;
  /** Default 50, at most 500. */
  readonly limit?: number;
  /** Only sagas updated before this (epoch ms): the page after one that ended there. */
  readonly updatedBefore?: number;
}

/** How many sagas of one type and version are in one status. */
export interface SagaCount {
  readonly type: string;
  readonly version: number;
  readonly status: SagaStatus;
  readonly count: number;
}

/** Step names by saga type and version, to name a stored step index. */
export type StepNames = (type: string, version: number) => readonly string[] | undefined;

/** The most recently updated sagas first. */
export async function listSagas(
  db: Kysely<unknown>,
  names: StepNames,
  filter: SagaFilter = {},
): Promise<SagaSummary[]> {
  let query = (db as unknown as SagaDb)
    .selectFrom("flotilla_sagas")
    .selectAll()
    .orderBy("updated_at", "desc")
    .orderBy("id")
    .limit(Math.min(Math.max(filter.limit ?? 50, 1), 500));
  if (filter.status !== undefined) query = query.where("status", "=", filter.status);
  if (filter.type !== undefined) query = query.where("type", "=", filter.type);
  if (filter.updatedBefore !== undefined) query = query.where("updated_at", "<", filter.updatedBefore);
  const rows = await query.execute();
  return rows.map((row) => summary(row, names));
}

const SAGA_STATUSES: readonly SagaStatus[] = ["running", "compensating", "completed", "compensated", "failed"];

/** Sagas of these types by type, version and status (one grouped query, for metrics). */
export async function countSagas(db: Kysely<unknown>, types: readonly string[]): Promise<SagaCount[]> {
  if (types.length === 0) return [];
  const rows = await (db as unknown as SagaDb)
    .selectFrom("flotilla_sagas")
    .select((eb) => ["type", "version", "status", eb.fn.countAll<number>().as("count")])
    .where("type", "in", types)
    .groupBy(["type", "version", "status"])
    .execute();
  // Every status of each type and version present, zeros included: a status that empties reads 0, not nothing.
  const counts = new Map<string, SagaCount>();
  for (const r of rows) {
    const version = Number(r.version);
    for (const status of SAGA_STATUSES) {
      const key = `${r.type}@${version}:${status}`;
      if (!counts.has(key)) counts.set(key, { type: r.type, version, status, count: 0 });
    }
    counts.set(`${r.type}@${version}:${r.status}`, {
      type: r.type,
      version,
      status: r.status as SagaStatus,
      count: Number(r.count),
    });
  }
  return [...counts.values()];
}

export async function getSaga(db: Kysely<unknown>, names: StepNames, id: string): Promise<SagaDetails | undefined> {
  const sagaDb = db as unknown as SagaDb;
  const row = await sagaDb.selectFrom("flotilla_sagas").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined) return undefined;
  const journal = await sagaDb
    .selectFrom("flotilla_saga_journal")
    .selectAll()
    .where("saga_id", "=", id)
    .orderBy("seq")
    .execute();
  const state = JSON.parse(row.state) as StoredState;
  return {
    ...summary(row, names),
    input: state.input,
    outputs: state.steps,
    history: journal.map((j) => ({
      at: new Date(Number(j.at)).toISOString(),
      entry: j.entry,
      step: j.step,
      attempt: j.attempt === null ? null : Number(j.attempt),
      detail: j.detail === null ? null : JSON.parse(j.detail),
    })),
  };
}

type Row = Selectable<SagasTable>;

function summary(row: Row, names: StepNames): SagaSummary {
  const steps = names(row.type, Number(row.version));
  const startedAt = Number(row.started_at);
  const finishedAt = row.finished_at === null ? null : Number(row.finished_at);
  const failure = row.failure === null ? null : (JSON.parse(row.failure) as StoredFailure);
  return {
    id: row.id,
    type: row.type,
    version: Number(row.version),
    status: row.status as SagaStatus,
    step: steps?.[Number(row.step)] ?? String(row.step),
    attempt: Number(row.attempt),
    startedAt: new Date(startedAt).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
    finishedAt: finishedAt === null ? null : new Date(finishedAt).toISOString(),
    durationMs: (finishedAt ?? Date.now()) - startedAt,
    failure: failure === null ? null : { step: failure.step, code: failure.code, message: failure.message },
  };
}
