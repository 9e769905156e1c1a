/**
 * rebuildProjection on SQLite, driven directly with histories of the test's own: every event applied
 * once per handler (duplicates in the history too), parked live events that the history also holds
 * applied once, a rebuild that fails mid-way finished by the next one, and the pacing hooks. Plus
 * databaseFromEnv, the one reading of FLOTILLA_DB* that `flotilla replay` asks.
 */
import { join } from "node:path";
import {
  Context,
  createLogger,
  defineContract,
  type EventEnvelope,
  type EventHistory,
  event,
  newTraceContext,
  type ResourceHandle,
} from "@flotilla/core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  database,
  databaseFromEnv,
  databaseProvider,
  defineProjection,
  type Kysely,
  rebuildProjection,
  sql,
} from "../src/index.js";
import { sqliteDialect } from "../src/internal.js";
import { tempDir } from "./fixtures/files.js";

const api = defineContract({
  service: "ticks",
  actions: {},
  events: { Ticked: event({ schema: z.object({ key: z.string() }) }) },
});

interface Tables {
  tally: { key: string; count: number };
  applied: { seq: number; event_id: string };
}

/** Fails once on the event named, to interrupt a rebuild. */
let failOn: string | undefined;

const tally = defineProjection<Tables, { ticked: typeof api.Ticked }>({
  name: "tally",
  handlers: {
    ticked: {
      event: api.Ticked,
      async handle({ key }, ctx, { envelope }) {
        if (envelope.id === failOn) {
          failOn = undefined;
          throw new Error(`fails on ${envelope.id}`);
        }
        await ctx.db
          .insertInto("tally")
          .values({ key, count: 1 })
          .onConflict((oc) => oc.column("key").doUpdateSet((eb) => ({ count: eb("tally.count", "+", 1) })))
          .execute();
        const { n } = await ctx.db
          .selectFrom("applied")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        await ctx.db
          .insertInto("applied")
          .values({ seq: Number(n), event_id: envelope.id })
          .execute();
      },
    },
  },
  reset: async (db) => {
    await db.deleteFrom("tally").execute();
    await db.deleteFrom("applied").execute();
  },
});

const spec = database<Tables>({
  migrations: {
    "001": {
      // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
      async up(db: Kysely<any>) {
        await db.schema
          .createTable("tally")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("count", "integer", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("applied")
          .addColumn("seq", "integer", (c) => c.primaryKey())
          .addColumn("event_id", "text", (c) => c.notNull())
          .execute();
      },
    },
  },
});

const service = {
  kind: "service",
  name: "ticks",
  contract: api,
  database: spec,
  actions: {},
  subscriptions: [],
  projections: [tally],
  orchestrators: [],
  start: undefined,
  stop: undefined,
  ready: undefined,
  maxInFlight: 1,
  maxQueued: 1,
} as const;

const log = createLogger({ level: "silent", name: "test" });
const dir = tempDir();
afterAll(() => dir.remove());

function tick(id: string, key = "k"): EventEnvelope {
  return { id, type: "ticks.Ticked", source: "ticks", version: 1, time: "", headers: {}, data: { key } };
}

function historyOf(events: EventEnvelope[], onYield?: (i: number) => Promise<void>): () => Promise<EventHistory> {
  return async () => ({
    total: events.length,
    async *[Symbol.asyncIterator]() {
      for (const [i, e] of events.entries()) {
        await onYield?.(i);
        yield e;
      }
    },
  });
}

describe("rebuildProjection", () => {
  let handle: ResourceHandle | undefined;
  let n = 0;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
    failOn = undefined;
  });

  async function open(): Promise<Kysely<Tables>> {
    handle = await databaseProvider(sqliteDialect({ dataDir: join(dir.path, `db${n++}`) }), { relay: false }).open(
      spec,
      { service: "ticks", instance: "ticks-test", log, transport: { name: "none", send: () => Promise.resolve() } },
    );
    return handle.value as Kysely<Tables>;
  }

  /** What the live subscription does with an event (inbox record, then the parking-aware handler). */
  async function deliverLive(db: Kysely<Tables>, envelope: EventEnvelope): Promise<void> {
    await db.transaction().execute(async (trx) => {
      const inserted = await sql`insert into flotilla_inbox (subscription, event_id, handled_at)
        values ('ticks.tally.ticked', ${envelope.id}, 0) on conflict do nothing`.execute(trx);
      if (Number(inserted.numAffectedRows) === 0) return;
      const ctx = new Context(
        {
          defaultCallTimeoutMs: 1000,
          dispatch: () => Promise.reject(new Error("no")),
          emit: () => Promise.reject(new Error("no")),
          logger: () => log,
        },
        {
          service: "ticks",
          instance: "ticks-live",
          trace: newTraceContext(),
          correlationId: envelope.id,
          caller: undefined,
          deadline: Date.now() + 1000,
          db: trx,
        },
      );
      await tally.subscriptions.ticked?.handle(envelope.data, ctx as never, { envelope, delivery: { attempt: 1 } });
    });
  }

  async function state(db: Kysely<Tables>) {
    const row = await sql<{ status: string }>`select status from flotilla_projections where name = 'tally'`.execute(db);
    const parked = await sql<{ n: number }>`select count(*) as n from flotilla_projection_parked`.execute(db);
    const inbox = await sql<{ n: number }>`select count(*) as n from flotilla_inbox`.execute(db);
    const applied = await db.selectFrom("applied").select("event_id").orderBy("seq").execute();
    const counts = await db.selectFrom("tally").selectAll().orderBy("key").execute();
    return {
      status: row.rows[0]?.status,
      parked: Number(parked.rows[0]?.n),
      inbox: Number(inbox.rows[0]?.n),
      applied: applied.map((r) => r.event_id),
      counts: Object.fromEntries(counts.map((r) => [r.key, Number(r.count)])),
    };
  }

  it("applies each history event once, a duplicate in the history too, and leaves an inbox record of each", async () => {
    const db = await open();
    const result = await rebuildProjection({
      db: db as Kysely<unknown>,
      service,
      projection: "tally",
      history: historyOf([tick("e1"), tick("e2", "j"), tick("e2", "j"), tick("e3")]),
      log,
      batchSize: 2,
    });
    expect(result).toMatchObject({ read: 4, total: 4, applied: 3, parked: 0 });
    expect(await state(db)).toEqual({
      status: "live",
      parked: 0,
      inbox: 3,
      applied: ["e1", "e2", "e3"],
      counts: { j: 1, k: 2 },
    });
    // A redelivery of a history event after the rebuild finds its inbox record: acknowledged unrun.
    await deliverLive(db, tick("e1"));
    expect((await state(db)).counts).toEqual({ j: 1, k: 2 });
    // The temporary table is gone with the rebuild: a second one starts afresh.
    await rebuildProjection({
      db: db as Kysely<unknown>,
      service,
      projection: "tally",
      history: historyOf([tick("e1")]),
      log,
    });
    expect(await state(db)).toMatchObject({ status: "live", inbox: 1, applied: ["e1"] });
  });

  it("applies a parked event the history also holds once, where the history has it, and the others after it", async () => {
    const db = await open();
    const history = [tick("e1"), tick("e2"), tick("e3"), tick("e4")];
    const result = await rebuildProjection({
      db: db as Kysely<unknown>,
      service,
      projection: "tally",
      // Live deliveries while the rebuild runs: e3 before the history reaches it, e1 after, e9 new.
      history: historyOf(history, async (i) => {
        if (i === 2) {
          await deliverLive(db, tick("e3"));
          await deliverLive(db, tick("e1"));
          await deliverLive(db, tick("e9"));
        }
      }),
      log,
      batchSize: 2,
    });
    expect(result).toMatchObject({ read: 4, applied: 4, parked: 1 });
    expect(await state(db)).toEqual({
      status: "live",
      parked: 0,
      inbox: 5,
      applied: ["e1", "e2", "e3", "e4", "e9"],
      counts: { k: 5 },
    });
  });

  it("leaves a rebuild that failed mid-way rebuilding, parking live events, and the next one completes it", async () => {
    const db = await open();
    const history = [tick("e1"), tick("e2"), tick("e3"), tick("e4"), tick("e5")];
    failOn = "e4";
    await expect(
      rebuildProjection({
        db: db as Kysely<unknown>,
        service,
        projection: "tally",
        history: historyOf(history),
        log,
        batchSize: 2,
      }),
    ).rejects.toThrow("fails on e4");
    // The batches before the failure committed; the projection still says rebuilding, and parks.
    expect(await state(db)).toMatchObject({ status: "rebuilding", parked: 0, applied: ["e1", "e2"] });
    await deliverLive(db, tick("e6"));
    await deliverLive(db, tick("e2"));
    expect(await state(db)).toMatchObject({ status: "rebuilding", parked: 2, applied: ["e1", "e2"] });

    const result = await rebuildProjection({
      db: db as Kysely<unknown>,
      service,
      projection: "tally",
      history: historyOf(history),
      log,
      batchSize: 2,
    });
    expect(result).toMatchObject({ read: 5, applied: 5, parked: 1 });
    expect(await state(db)).toEqual({
      status: "live",
      parked: 0,
      inbox: 6,
      applied: ["e1", "e2", "e3", "e4", "e5", "e6"],
      counts: { k: 6 },
    });
  });

  it("ends a transaction once it ran transactionMs and awaits afterTransaction between them", async () => {
    const db = await open();
    const history = Array.from({ length: 600 }, (_, i) => tick(`e${i}`, `k${i % 7}`));
    const transactions: { events: number; heldMs: number }[] = [];
    let limits = 0;
    const result = await rebuildProjection({
      db: db as Kysely<unknown>,
      service,
      projection: "tally",
      history: historyOf(history),
      log,
      batchSize: 600,
      transactionMs: () => {
        limits++;
        return 0;
      },
      afterTransaction: async (t) => {
        transactions.push({ ...t });
      },
    });
    expect(result.applied).toBe(600);
    // With no time to spare, each transaction applies one chunk of 256 events (the last: the rest).
    expect(transactions.filter((t) => t.events > 0).map((t) => t.events)).toEqual([256, 256, 88]);
    expect(limits).toBe(3);
    // Then the inbox records, in one chunk.
    expect(transactions.at(-1)?.events).toBe(0);
    expect((await state(db)).inbox).toBe(600);
  });
});

describe("databaseFromEnv", () => {
  const fallback = sqliteDialect({ dataDir: "/srv/data" });

  it("takes FLOTILLA_DB_<SERVICE>, then FLOTILLA_DB, then the fallback", () => {
    const env = { FLOTILLA_DB_ORDER_HISTORY: "sqlite:/var/orders", FLOTILLA_DB: "postgres://db/{service}" };
    expect(databaseFromEnv("order-history", { env, fallback })).toMatchObject({
      variable: "FLOTILLA_DB_ORDER_HISTORY",
      dialect: { name: "sqlite" },
      sqliteFile: "/var/orders/order-history.sqlite",
    });
    expect(databaseFromEnv("catalog", { env, fallback })).toMatchObject({
      variable: "FLOTILLA_DB",
      dialect: { name: "postgres" },
      sqliteFile: undefined,
    });
    expect(databaseFromEnv("catalog", { env: {}, fallback })).toMatchObject({
      variable: undefined,
      dialect: { name: "sqlite" },
      sqliteFile: "/srv/data/catalog.sqlite",
    });
    // Empty means unset, as for databaseProviderFromEnv.
    expect(
      databaseFromEnv("catalog", { env: { FLOTILLA_DB_CATALOG: "", FLOTILLA_DB: "sqlite::memory:" }, fallback }),
    ).toMatchObject({
      variable: "FLOTILLA_DB",
      sqliteFile: ":memory:",
    });
  });

  it("names the variable of a URL it cannot use", () => {
    expect(() => databaseFromEnv("catalog", { env: { FLOTILLA_DB_CATALOG: "mysql://x" }, fallback })).toThrow(
      /^FLOTILLA_DB_CATALOG: no database dialect for scheme "mysql"/,
    );
  });
});
