/** @module Rebuilding a projection from the event history while live events keep arriving. */
import {
  Context,
  type Dispatcher,
  type EventEnvelope,
  type EventHistory,
  FlotillaCodes,
  FlotillaError,
  type Logger,
  newTraceContext,
  parseOrThrow,
  type ServiceDefinition,
  type SubscriptionDefinition,
} from "@flotilla/core";
import type { Kysely, Transaction } from "kysely";
import { joinable } from "../service-database.js";
import type { SystemTables } from "../system-tables.js";
import { projectionHandler } from "./define-projection.js";

export interface RebuildOptions {
  /** The service's own database, opened and migrated (e.g. by `openServiceDatabase`). */
  db: Kysely<unknown>;
  service: ServiceDefinition;
  projection: string;
  /** The transport's history (`transport.history`). */
  history(types: readonly string[]): Promise<EventHistory>;
  log: Logger;
  /** Called after each batch: events read so far of `total`. */
  onProgress?(progress: RebuildProgress): void;
  /** Events applied per transaction (default 500). */
  batchSize?: number;
}

export interface RebuildProgress {
  readonly read: number;
  readonly total: number;
  readonly applied: number;
}

export interface RebuildResult extends RebuildProgress {
  /** Live events that arrived during the rebuild and were applied at its end. */
  readonly parked: number;
  readonly seconds: number;
}

/**
 * 1. One transaction marks the projection `rebuilding` (live handlers park their events from then on),
 *    runs its `reset` and forgets the inbox records of everything but the parked events.
 * 2. The history is applied in batches, each event once per handler (the inbox records it).
 * 3. One transaction applies the parked events in arrival order and marks the projection `live`.
 * A crash anywhere leaves it `rebuilding`, parking live events; running the rebuild again finishes it.
 */
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildResult> {
  const started = performance.now();
  const { service, projection } = options;
  const db = options.db as Kysely<SystemTables>;
  const subs = service.subscriptions.filter((s) => s.projection === projection);
  const definition = service.projections.find((p) => p.name === projection);
  if (definition === undefined || subs.length === 0) {
    const known = service.projections.map((p) => p.name).join(", ") || "none";
    throw new FlotillaError("NOT_FOUND", `${service.name} has no projection "${projection}" (it has: ${known})`);
  }
  const names = subs.map((s) => `${service.name}.${s.name}`);
  const byType = new Map<string, SubscriptionDefinition[]>();
  for (const sub of subs) byType.set(sub.event.type, [...(byType.get(sub.event.type) ?? []), sub]);
  const apply = applier(options);

  await db.transaction().execute(async (trx) => {
    const now = Date.now();
    await trx
      .insertInto("flotilla_projections")
      .values({ name: projection, status: "rebuilding", updated_at: now, rebuilt_events: null })
      .onConflict((oc) => oc.column("name").doUpdateSet({ status: "rebuilding", updated_at: now }))
      .execute();
    await definition.reset(joinable(trx));
    await trx
      .deleteFrom("flotilla_inbox")
      .where("subscription", "in", names)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("flotilla_projection_parked as p")
              .select("p.seq")
              .whereRef("p.subscription", "=", "flotilla_inbox.subscription")
              .whereRef("p.event_id", "=", "flotilla_inbox.event_id"),
          ),
        ),
      )
      .execute();
  });
  options.log.info({ projection }, "projection reset; replaying history");

  const history = await options.history([...byType.keys()]);
  const batchSize = options.batchSize ?? 500;
  let read = 0;
  let applied = 0;
  let batch: EventEnvelope[] = [];
  const flush = async () => {
    const events = batch;
    batch = [];
    await db.transaction().execute(async (trx) => {
      for (const event of events) {
        for (const sub of byType.get(event.type) ?? []) {
          if (await apply(trx, sub, event, true)) applied++;
        }
      }
    });
    options.onProgress?.({ read, total: Math.max(history.total, read), applied });
  };
  for await (const event of history) {
    read++;
    batch.push(event);
    if (batch.length >= batchSize) await flush();
  }
  await flush();

  const parked = await db.transaction().execute(async (trx) => {
    // Taking the row lock first makes live handlers that already saw `rebuilding` commit their parking.
    await trx
      .updateTable("flotilla_projections")
      .set({ status: "live", updated_at: Date.now(), rebuilt_events: applied })
      .where("name", "=", projection)
      .execute();
    const rows = await trx
      .selectFrom("flotilla_projection_parked")
      .selectAll()
      .where("projection", "=", projection)
      .orderBy("seq")
      .execute();
    for (const row of rows) {
      const sub = subs.find((s) => `${service.name}.${s.name}` === row.subscription);
      // Parked events have their inbox record already (written when they were parked).
      if (sub !== undefined) await apply(trx, sub, JSON.parse(row.envelope) as EventEnvelope, false);
    }
    await trx.deleteFrom("flotilla_projection_parked").where("projection", "=", projection).execute();
    return rows.length;
  });
  const seconds = (performance.now() - started) / 1000;
  options.log.info({ projection, read, applied, parked, seconds }, "projection rebuilt");
  return { read, total: Math.max(history.total, read), applied, parked, seconds };
}

type Apply = (
  trx: Transaction<SystemTables>,
  sub: SubscriptionDefinition,
  event: EventEnvelope,
  recordInbox: boolean,
) => Promise<boolean>;

/** Runs one handler on one event inside `trx`, with the inbox record unless told otherwise. */
function applier(options: RebuildOptions): Apply {
  const service = options.service.name;
  const dispatcher = refusingDispatcher(options.log);
  return async (trx, sub, event, recordInbox) => {
    const subscription = `${service}.${sub.name}`;
    if (recordInbox) {
      const recorded = await trx
        .insertInto("flotilla_inbox")
        .values({ subscription, event_id: event.id, handled_at: Date.now() })
        .onConflict((oc) => oc.columns(["subscription", "event_id"]).doNothing())
        .executeTakeFirst();
      if (Number(recorded.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
    }
    const ctx = new Context(dispatcher, {
      service,
      instance: `${service}-replay`,
      trace: newTraceContext(),
      correlationId: `replay.${event.id}`,
      caller: undefined,
      deadline: Date.now() + 60_000,
      db: joinable(trx),
    });
    const data = parseOrThrow(sub.event.schema, event.data, `data of ${event.type} event ${event.id}`);
    // The handler itself, past the parking check (which would see this very rebuild running).
    const handle = projectionHandler(sub.handle) ?? sub.handle;
    await handle(data, ctx as Context<never>, { envelope: event, delivery: { attempt: 1 } });
    return true;
  };
}

function refusingDispatcher(log: Logger): Dispatcher {
  const refuse = () =>
    Promise.reject(
      FlotillaError.of(FlotillaCodes.CONFIG, "a projection handler cannot call or emit: it may run again in a replay"),
    );
  return { defaultCallTimeoutMs: 10_000, dispatch: refuse, emit: refuse, logger: () => log };
}
