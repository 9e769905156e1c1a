/** @module Saga rows and their journal in the orchestrating service's database (Flotilla's system tables). */
import type { SystemTables } from "@flotilla/data/internal";
import type { Kysely, Selectable } from "kysely";
import type { JournalNote, SagaPosition, SagaStatus, StoredFailure, StoredState } from "./decide.js";

export type SagaDb = Kysely<SystemTables>;
type Row = Selectable<SystemTables["flotilla_sagas"]>;

export interface StoredSaga extends SagaPosition {
  readonly id: string;
  readonly type: string;
  readonly version: number;
  readonly rev: number;
  readonly startedAt: number;
  readonly updatedAt: number;
}

export async function loadSaga(db: SagaDb, id: string): Promise<StoredSaga | undefined> {
  const row = await db.selectFrom("flotilla_sagas").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : fromRow(row);
}

export async function insertSaga(
  db: SagaDb,
  saga: { id: string; type: string; version: number },
  position: SagaPosition,
  now: number,
): Promise<void> {
  await db
    .insertInto("flotilla_sagas")
    .values({
      id: saga.id,
      type: saga.type,
      version: saga.version,
      status: position.status,
      step: position.step,
      attempt: position.attempt,
      state: JSON.stringify(position.state),
      failure: position.failure === null ? null : JSON.stringify(position.failure),
      rev: 1,
      started_at: now,
      updated_at: now,
      deadline_at: position.deadlineAt,
      finished_at: isFinished(position.status) ? now : null,
    })
    .execute();
}

/** Stores the new position if nobody changed the saga since `rev` was read; false otherwise. */
export async function updateSaga(
  db: SagaDb,
  id: string,
  rev: number,
  position: SagaPosition,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("flotilla_sagas")
    .set({
      status: position.status,
      step: position.step,
      attempt: position.attempt,
      state: JSON.stringify(position.state),
      failure: position.failure === null ? null : JSON.stringify(position.failure),
      rev: rev + 1,
      updated_at: now,
      finished_at: isFinished(position.status) ? now : null,
    })
    .where("id", "=", id)
    .where("rev", "=", rev)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function appendJournal(
  db: SagaDb,
  sagaId: string,
  notes: readonly JournalNote[],
  now: number,
): Promise<void> {
  if (notes.length === 0) return;
  await db
    .insertInto("flotilla_saga_journal")
    .values(
      notes.map((n) => ({
        saga_id: sagaId,
        at: now,
        entry: n.entry,
        step: n.step,
        attempt: n.attempt,
        detail: n.detail === undefined ? null : JSON.stringify(n.detail),
      })),
    )
    .execute();
}

/** Type and version of every saga still in flight: each needs its definition registered. */
export async function versionsInFlight(db: SagaDb): Promise<Array<{ type: string; version: number; count: number }>> {
  const rows = await db
    .selectFrom("flotilla_sagas")
    .select((eb) => ["type", "version", eb.fn.countAll<number>().as("count")])
    .where("status", "in", ["running", "compensating"])
    .groupBy(["type", "version"])
    .execute();
  return rows.map((r) => ({ type: r.type, version: Number(r.version), count: Number(r.count) }));
}

export function isFinished(status: string): boolean {
  return status === "completed" || status === "compensated" || status === "failed";
}

function fromRow(row: Row): StoredSaga {
  return {
    id: row.id,
    type: row.type,
    version: Number(row.version),
    status: row.status as SagaStatus,
    step: Number(row.step),
    attempt: Number(row.attempt),
    state: JSON.parse(row.state) as StoredState,
    failure: row.failure === null ? null : (JSON.parse(row.failure) as StoredFailure),
    rev: Number(row.rev),
    startedAt: Number(row.started_at),
    updatedAt: Number(row.updated_at),
    deadlineAt: Number(row.deadline_at),
  };
}
