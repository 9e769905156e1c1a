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
  type ProjectionDefinition,
  parseOrThrow,
  type ServiceDefinition,
} from "@flotilla/core";
import { Kysely, type RawBuilder, sql, type Transaction, type TransactionBuilder } from "kysely";
import { joinable } from "../service-database.js";
import type { SystemTables } from "../system-tables.js";
import { isPostgres } from "./projection-state.js";

export interface RebuildOptions {
  /** The service's own database, opened and migrated (e.g. by `openServiceDatabase`). */
  db: Kysely<unknown>;
  service: ServiceDefinition;
  projection: string;
  /** The transport's history (`transport.history`). */
  history(types: readonly string[]): Promise<EventHistory>;
  log: Logger;
  /** Called after each transaction: events read so far of `total`. */
  onProgress?(progress: RebuildProgress): void;
  /** Events applied per transaction at most (default 2,000). */
  batchSize?: number;
  /**
   * A transaction of the history ends once it has run this long (ms), short of `batchSize` if need
   * be: how long it keeps other writers of the database waiting at most (default: no limit). A
   * function is asked before each transaction.
   */
  transactionMs?: number | (() => number);
  /**
   * Awaited after each transaction that applied history, before the next begins: e.g. a pause that
   * lets the running app's writes in (SQLite has one writer at a time).
   */
  afterTransaction?(transaction: { readonly events: number; readonly heldMs: number }): Promise<void>;
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

/** Events whose pairs are recorded by one statement; a transaction ends only between chunks. */
const CHUNK = 256;
/** Rows of the applied-events table moved into the inbox per transaction at the end. */
const INBOX_CHUNK = 50_000;

/**
 * 1. One transaction marks the projection `rebuilding` (live handlers park their events from then on),
 *    runs its `reset` and forgets the inbox records of everything but the parked events.
 * 2. The history is applied in batches, one transaction each, each event once per handler: a
 *    temporary table of this connection records the `(subscription, event id)` pairs applied, in the
 *    batch's transaction (one statement per batch), and a pair already there is skipped.
 * 3. Those pairs become inbox records, in large sorted chunks (one per event at a time would cost a
 *    random write each): a redelivery of a history event after the rebuild is then acknowledged unrun.
 * 4. One transaction applies the parked events the history did not have, in arrival order, and marks
 *    the projection `live`.
 * A crash anywhere leaves it `rebuilding`, parking live events (each with its inbox record); running
 * the rebuild again starts over from 1 and finishes it. The temporary table dies with the connection.
 */
/** The service's projection of that name, with handlers; NOT_FOUND naming the ones it has otherwise. */
export function projectionOf(service: ServiceDefinition, projection: string): ProjectionDefinition {
  const definition = service.projections.find((p) => p.name === projection);
  if (definition === undefined || Object.keys(definition.handlers).length === 0) {
    const known = service.projections.map((p) => p.name).join(", ") || "none";
    throw new FlotillaError("NOT_FOUND", `${service.name} has no projection "${projection}" (it has: ${known})`);
  }
  return definition;
}

export async function rebuildProjection(options: RebuildOptions): Promise<RebuildResult> {
  const { service, projection } = options;
  const definition = projectionOf(service, projection);
  const db = options.db as Kysely<SystemTables>;
  // PostgreSQL pools connections: the temporary table lives on one, so the whole rebuild runs there.
  // SQLite's Kysely has a single connection anyway (and pinning it would stall its other users).
  if (isPostgres(db)) return db.connection().execute((conn) => rebuild(options, definition, conn, "postgres"));
  return rebuild(options, definition, db, "sqlite");
}

type Engine = "sqlite" | "postgres";

interface Handler {
  readonly subscription: string;
  readonly def: ProjectionDefinition["handlers"][string];
}

async function rebuild(
  options: RebuildOptions,
  definition: ProjectionDefinition,
  db: Kysely<SystemTables>,
  engine: Engine,
): Promise<RebuildResult> {
  const started = performance.now();
  const { service, projection } = options;
  const handlers: Handler[] = Object.entries(definition.handlers).map(([name, def]) => ({
    subscription: `${service.name}.${projection}.${name}`,
    def,
  }));
  const names = handlers.map((h) => h.subscription);
  const byType = new Map<string, Handler[]>();
  for (const h of handlers) byType.set(h.def.event.type, [...(byType.get(h.def.event.type) ?? []), h]);
  const applied = appliedTable(projection, engine);
  const apply = applier(options);
  // Kysely's own transactions, not the service database's tracked ones: a rebuild's handlers cannot
  // emit, so nothing needs to find the running transaction, and the AsyncLocalStorage that tracking
  // uses would turn on promise hooks, a cost on every await of every event.
  const begin = (): TransactionBuilder<SystemTables> => Kysely.prototype.transaction.call(db);

  await applied.create(db);
  try {
    await begin().execute(async (trx) => {
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
    const batchSize = options.batchSize ?? 2_000;
    const limit = options.transactionMs ?? Number.POSITIVE_INFINITY;
    const transactionMs = typeof limit === "function" ? limit : () => limit;
    let read = 0;
    let count = 0;
    const progress = () => options.onProgress?.({ read, total: Math.max(history.total, read), applied: count });
    const paced = async (events: number, heldMs: number) => {
      progress();
      await options.afterTransaction?.({ events, heldMs });
    };

    // The batch is read before its transactions begin: a history read over the network never holds
    // the database's write lock.
    let batch: EventEnvelope[] = [];
    const flush = async () => {
      let next = 0;
      while (next < batch.length) {
        const begun = performance.now();
        const from = next;
        next = await begin().execute((trx) => applyFrom(trx, from, begun + transactionMs()));
        await paced(next - from, performance.now() - begun);
      }
      batch = [];
    };
    /** Applies the batch from `from` on in `trx`, chunk by chunk, until it or the time runs out; returns where it stopped. */
    const applyFrom = async (trx: Transaction<SystemTables>, from: number, deadline: number) => {
      const ctxDb = joinable(trx);
      const trace = newTraceContext();
      let at = from;
      do {
        const end = Math.min(batch.length, at + CHUNK);
        const pairs: [string, string][] = [];
        for (let i = at; i < end; i++) {
          const event = batch[i] as EventEnvelope;
          for (const h of byType.get(event.type) ?? []) pairs.push([h.subscription, event.id]);
        }
        // One statement records the chunk's pairs and names those not recorded before.
        const fresh = await applied.record(trx, pairs);
        for (let i = at; i < end; i++) {
          const event = batch[i] as EventEnvelope;
          for (const h of byType.get(event.type) ?? []) {
            // Deleted once applied: the same event twice in one chunk is applied once.
            if (fresh.delete(`${h.subscription}\u0000${event.id}`)) {
              await apply(ctxDb, trace, h, event);
              count++;
            }
          }
        }
        at = end;
      } while (at < batch.length && performance.now() < deadline);
      return at;
    };
    for await (const event of history) {
      read++;
      batch.push(event);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    if (read === 0) progress();

    // The applied pairs become inbox records, in key order (each index page written once per chunk).
    let after: Pair | undefined = { subscription: "", event_id: "" };
    while (after !== undefined) {
      const begun = performance.now();
      const from: Pair = after;
      after = await begin().execute((trx) => applied.toInbox(trx, from, INBOX_CHUNK));
      await options.afterTransaction?.({ events: 0, heldMs: performance.now() - begun });
    }

    const parked = await begin().execute(async (trx) => {
      // Taking the row lock first makes live handlers that already saw `rebuilding` commit their parking.
      await trx
        .updateTable("flotilla_projections")
        .set({ status: "live", updated_at: Date.now(), rebuilt_events: count })
        .where("name", "=", projection)
        .execute();
      const rows = await trx
        .selectFrom("flotilla_projection_parked")
        .selectAll()
        .where("projection", "=", projection)
        .orderBy("seq")
        .execute();
      const inHistory = await applied.among(
        trx,
        rows.map((r) => [r.subscription, r.event_id]),
      );
      const ctxDb = joinable(trx);
      const trace = newTraceContext();
      let late = 0;
      for (const row of rows) {
        const h = handlers.find((s) => s.subscription === row.subscription);
        // A parked event the history had was applied there. Parked events have their inbox record
        // already (written when they were parked).
        if (h === undefined || inHistory.has(`${row.subscription}\u0000${row.event_id}`)) continue;
        await apply(ctxDb, trace, h, JSON.parse(row.envelope) as EventEnvelope);
        late++;
      }
      await trx.deleteFrom("flotilla_projection_parked").where("projection", "=", projection).execute();
      return late;
    });
    const seconds = (performance.now() - started) / 1000;
    options.log.info({ projection, read, applied: count, parked, seconds }, "projection rebuilt");
    return { read, total: Math.max(history.total, read), applied: count, parked, seconds };
  } finally {
    await applied.drop(db).catch((err: unknown) => options.log.warn({ err }, "could not drop the rebuild's table"));
  }
}

/**
 * The `(subscription, event id)` pairs this rebuild applied: a temporary table (this connection's
 * alone, gone with it), written in the transactions that apply the events, so it rolls back with them.
 */
function appliedTable(projection: string, engine: Engine) {
  const table = sql.table(`flotilla_rebuild_${projection}`);
  const pairsOf = (json: string): RawBuilder<unknown> =>
    engine === "postgres"
      ? sql`select x->>0, x->>1 from json_array_elements(${json}::json) as x`
      : sql`select value->>0, value->>1 from json_each(${json})`;
  const keys = (rows: Pair[]) => new Set(rows.map((r) => `${r.subscription}\u0000${r.event_id}`));
  return {
    async create(db: Kysely<SystemTables>): Promise<void> {
      await sql`drop table if exists ${table}`.execute(db);
      // SQLite journals a temporary table's changes to a file of its own by default, which costs more
      // than the insert itself; kept in memory (the table's pages still spill to a file when large).
      if (engine === "sqlite") await sql`pragma temp.journal_mode = memory`.execute(db);
      await sql`create temporary table ${table} (
        subscription text not null,
        event_id text not null,
        primary key (subscription, event_id)
      )${engine === "sqlite" ? sql` without rowid` : sql``}`.execute(db);
    },
    /** Records the pairs; returns those that were not recorded yet (as `subscription\0id`). */
    async record(trx: Transaction<SystemTables>, pairs: [string, string][]): Promise<Set<string>> {
      if (pairs.length === 0) return new Set();
      const { rows } = await sql<Pair>`
        insert into ${table} (subscription, event_id) ${pairsOf(JSON.stringify(pairs))} where true
        on conflict (subscription, event_id) do nothing returning subscription, event_id`.execute(trx);
      return keys(rows);
    },
    /** Those of the pairs that were recorded. */
    async among(trx: Transaction<SystemTables>, pairs: [string, string][]): Promise<Set<string>> {
      if (pairs.length === 0) return new Set();
      const { rows } = await sql<Pair>`
        select subscription, event_id from ${table}
        where (subscription, event_id) in (${pairsOf(JSON.stringify(pairs))})`.execute(trx);
      return keys(rows);
    },
    /**
     * Inserts the inbox records of the next `limit` pairs after `after`, in key order; returns the
     * last pair handled, undefined when there were none.
     */
    async toInbox(trx: Transaction<SystemTables>, after: Pair, limit: number): Promise<Pair | undefined> {
      const past = sql`(subscription, event_id) > (${after.subscription}, ${after.event_id})`;
      const bound = await sql<Pair>`
        select subscription, event_id from ${table} where ${past}
        order by subscription, event_id limit 1 offset ${limit - 1}`.execute(trx);
      let last = bound.rows[0];
      const upTo =
        last === undefined ? sql`true` : sql`(subscription, event_id) <= (${last.subscription}, ${last.event_id})`;
      if (last === undefined) {
        const end = await sql<Pair>`
          select subscription, event_id from ${table} where ${past}
          order by subscription desc, event_id desc limit 1`.execute(trx);
        last = end.rows[0];
        if (last === undefined) return undefined;
      }
      await sql`
        insert into flotilla_inbox (subscription, event_id, handled_at)
        select subscription, event_id, ${Date.now()} from ${table} where ${past} and ${upTo}
        order by subscription, event_id
        on conflict (subscription, event_id) do nothing`.execute(trx);
      return last;
    },
    async drop(db: Kysely<SystemTables>): Promise<void> {
      await sql`drop table if exists ${table}`.execute(db);
    },
  };
}

interface Pair {
  subscription: string;
  event_id: string;
}

type Apply = (
  db: Transaction<SystemTables>,
  trace: ReturnType<typeof newTraceContext>,
  handler: Handler,
  event: EventEnvelope,
) => Promise<void>;

/** Runs one handler on one event in the transaction `db` (joinable), as the projection's definition wrote it. */
function applier(options: RebuildOptions): Apply {
  const service = options.service.name;
  const dispatcher = refusingDispatcher(options.log);
  const instance = `${service}-replay`;
  return async (db, trace, { def }, event) => {
    const ctx = new Context(dispatcher, {
      service,
      instance,
      trace,
      correlationId: `replay.${event.id}`,
      caller: undefined,
      deadline: Date.now() + 60_000,
      db,
    });
    const data = parseOrThrow(def.event.schema, event.data, `data of ${event.type} event ${event.id}`);
    await def.handle(data, ctx as Context<never>, { envelope: event, delivery: { attempt: 1 } });
  };
}

function refusingDispatcher(log: Logger): Dispatcher {
  const refuse = () =>
    Promise.reject(
      FlotillaError.of(FlotillaCodes.CONFIG, "a projection handler cannot call or emit: it may run again in a replay"),
    );
  return { defaultCallTimeoutMs: 10_000, dispatch: refuse, emit: refuse, logger: () => log };
}
