/**
 * @module The services of the outbox benchmark: a writer (one row per call, with or without an event
 * emitted in the same transaction), a source that emits at a paced rate and stamps each commit, and a
 * sink whose handler stamps when it starts.
 */
import { action, type Context, defineContract, defineService, event, type ServiceDefinition } from "@flotilla/core";
import { database, type Kysely, type ServiceDatabase } from "@flotilla/data";
import { z } from "zod";

/** The row every case inserts: the same table, columns and values in each peer. */
export interface ItemsTable {
  id: number;
  name: string;
  qty: number;
  created_at: number;
}

export interface BenchTables {
  items: ItemsTable;
}

export const ITEMS_DDL = {
  sqlite:
    "create table items (id integer primary key, name text not null, qty integer not null, created_at bigint not null)",
  postgres:
    "create table items (id bigint primary key, name text not null, qty integer not null, created_at bigint not null)",
} as const;

const migrations = {
  "001_items": {
    // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
    up: (db: Kysely<any>) =>
      db.schema
        .createTable("items")
        .addColumn("id", "bigint", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("qty", "integer", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute(),
  },
};

export function row(id: number): ItemsTable {
  return { id, name: "kettle", qty: id % 100, created_at: Date.now() };
}

const item = z.object({ id: z.number().int(), name: z.string().max(64), qty: z.number().int() });

// The writer: the plain and the outbox write, side by side in one service.

export function writerContract(service: string) {
  return defineContract({
    service,
    actions: {
      /** Inserts one row in a transaction. */
      plain: action({ input: z.object({ id: z.number().int() }), output: z.object({}) }),
      /** The same insert and one `ctx.emit` in the same transaction. */
      outbox: action({ input: z.object({ id: z.number().int() }), output: z.object({}) }),
      /** Rows in `items` and in the outbox, to check the work done. */
      stats: action({ input: z.object({}), output: z.object({ rows: z.number(), outbox: z.number() }) }),
    },
    events: { Written: event({ schema: item }) },
  });
}

export function writerService(service: string): ServiceDefinition {
  const api = writerContract(service);
  return defineService(api, {
    database: database<BenchTables & OutboxView>({ migrations }),
    actions: {
      async plain({ id }, ctx) {
        await ctx.db.transaction().execute(async (trx) => {
          await trx.insertInto("items").values(row(id)).execute();
        });
        return {};
      },
      async outbox({ id }, ctx) {
        await ctx.db.transaction().execute(async (trx) => {
          const r = row(id);
          await trx.insertInto("items").values(r).execute();
          await ctx.emit(api.Written, { id, name: r.name, qty: r.qty });
        });
        return {};
      },
      async stats(_input, ctx) {
        const rows = await ctx.db
          .selectFrom("items")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        const outbox = await ctx.db
          .selectFrom("flotilla_outbox")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        return { rows: Number(rows.n), outbox: Number(outbox.n) };
      },
    },
  });
}

/** The part of Flotilla's own tables the benchmark reads. */
interface OutboxView {
  flotilla_outbox: { seq: number; event_id: string };
}

// The latency pair: a source emitting at a steady rate, a sink handling its events.

const placed = z.object({ id: z.number().int(), name: z.string().max(64), qty: z.number().int(), w: z.boolean() });

export function sourceContract(service: string) {
  return defineContract({ service, events: { Placed: event({ schema: placed }) } });
}

type SourceDb = Kysely<BenchTables & OutboxView>;

export interface Source {
  readonly definition: ServiceDefinition;
  readonly contract: ReturnType<typeof sourceContract>;
  /** Inserts a row and emits one event in one transaction of the source's database. */
  place(id: number, warmup: boolean): Promise<void>;
  /** Events committed but not yet confirmed by the transport. */
  outboxRows(): Promise<number>;
}

/**
 * The emitting code runs in the source service with the context its start hook got: the same
 * `ctx.db.transaction()` and `ctx.emit` an action runs, without a request through the transport
 * (over NATS, `host.call` would add an RPC round trip per event that has nothing to do with the outbox).
 *
 * `onCommit(id)` runs right after the transaction that wrote event `id` committed: it is the first of
 * the transaction's after-commit callbacks (pushed before `ctx.emit`, which pushes the relay's wake).
 */
export function source(service: string, onCommit: (id: number) => void): Source {
  const api = sourceContract(service);
  let ctx: Context<SourceDb> | undefined;
  const started = () => {
    if (ctx === undefined) throw new Error(`${service} has not started`);
    return ctx;
  };
  const definition = defineService(api, {
    database: database<BenchTables & OutboxView>({ migrations }),
    actions: {},
    start: async (c) => {
      ctx = c;
    },
  });
  return {
    definition,
    contract: api,
    async place(id, w) {
      const c = started();
      const db = c.db as unknown as ServiceDatabase;
      await c.db.transaction().execute(async (trx) => {
        const r = row(id);
        await trx.insertInto("items").values(r).execute();
        db.current()?.afterCommit.push(() => onCommit(id));
        await c.emit(api.Placed, { id, name: r.name, qty: r.qty, w });
      });
    },
    async outboxRows() {
      const n = await started()
        .db.selectFrom("flotilla_outbox")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(n.n);
    },
  };
}

const sinkApi = (service: string) => defineContract({ service });

/** Exactly-once (the default): the handler runs in a transaction of the sink's database with the inbox record. */
export function sinkService(
  service: string,
  source: ReturnType<typeof sourceContract>,
  onHandle: (id: number) => void,
): ServiceDefinition {
  return defineService(sinkApi(service), {
    database: database<BenchTables>({ migrations }),
    actions: {},
    subscriptions: {
      placed: {
        event: source.Placed,
        async handle({ id }, ctx) {
          onHandle(id);
          // The handler's effect, in the transaction that also holds the inbox record.
          await ctx.db.insertInto("items").values(row(id)).execute();
        },
      },
    },
  });
}
