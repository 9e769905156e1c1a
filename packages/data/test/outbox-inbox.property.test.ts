/**
 * Property: whatever mix of committed and rolled-back transactions, failed publishes (before or after
 * the broker took the event), duplicated deliveries and handlers failing after their effect, every
 * committed event ends with exactly one effect, no rolled-back event has any, and the outbox empties.
 */
import {
  action,
  createHost,
  defineContract,
  defineService,
  event,
  MemoryTransport,
  type ResourceProvider,
  type Transport,
} from "@flotilla/core";
import { interceptPublish, waitFor } from "@flotilla/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { database, databaseProvider, type Kysely } from "../src/index.js";
import { outboxRows } from "./support/outbox-rows.js";
import { usePostgres } from "./support/postgres.js";

type Outcome = "ok" | "fail-before" | "fail-after" | "duplicate";

const source = defineContract({
  service: "prop-source",
  actions: {
    write: action({ input: z.object({ ids: z.array(z.string()), commit: z.boolean() }), output: z.object({}) }),
    outbox: action({ input: z.object({}), output: z.number() }),
  },
  events: { Wrote: event({ schema: z.object({ id: z.string() }) }) },
});

const sink = defineContract({
  service: "prop-sink",
  actions: { effects: action({ input: z.object({}), output: z.record(z.string(), z.number()) }) },
});

const migrations = (table: string) => ({
  "001": {
    // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
    up: (db: Kysely<any>) =>
      db.schema
        .createTable(table)
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("n", "integer", (c) => c.notNull().defaultTo(1))
        .execute(),
  },
});

interface Tables {
  rows: { id: string; n: number };
  effects: { id: string; n: number };
}

const sourceService = defineService(source, {
  database: database<Tables>({ migrations: migrations("rows") }),
  actions: {
    async write({ ids, commit }, ctx) {
      await ctx.db
        .transaction()
        .execute(async (trx) => {
          for (const id of ids) {
            await trx.insertInto("rows").values({ id, n: 1 }).execute();
            await ctx.emit(source.Wrote, { id });
          }
          if (!commit) throw new Error("rollback");
        })
        .catch((err: unknown) => {
          if (commit) throw err;
        });
      return {};
    },
    async outbox(_input, ctx) {
      return outboxRows(ctx.db);
    },
  },
});

function sinkService(failuresOf: Map<string, number>) {
  return defineService(sink, {
    database: database<Tables>({ migrations: migrations("effects") }),
    actions: {
      async effects(_input, ctx) {
        const rows = await ctx.db.selectFrom("effects").selectAll().execute();
        return Object.fromEntries(rows.map((r) => [r.id, Number(r.n)]));
      },
    },
    subscriptions: {
      apply: {
        event: source.Wrote,
        async handle({ id }, ctx) {
          await ctx.db
            .insertInto("effects")
            .values({ id, n: 1 })
            .onConflict((oc) => oc.column("id").doUpdateSet((eb) => ({ n: eb("effects.n", "+", 1) })))
            .execute();
          const left = failuresOf.get(id) ?? 0;
          if (left > 0) {
            failuresOf.set(id, left - 1);
            throw new Error("failed after the effect");
          }
        },
      },
    },
  });
}

/** What the transport does to the publishes of the current run, in turn; a run sets a new plan. */
interface Faults {
  plan: Outcome[];
  next: number;
}

/** The in-process transport behind a publish that fails or duplicates as the plan says, in turn. */
function flaky(inner: MemoryTransport, faults: Faults): Transport {
  return interceptPublish(inner, async (e) => {
    // The plan runs out, then every publish succeeds: the broker comes back.
    const outcome = faults.plan[faults.next++] ?? "ok";
    if (outcome === "fail-before") throw new Error("the broker never got it");
    await inner.publish(e);
    if (outcome === "duplicate") await inner.publish(e);
    if (outcome === "fail-after") throw new Error("the broker's confirmation was lost");
  });
}

const scenario = fc.record({
  writes: fc.array(fc.record({ events: fc.integer({ min: 1, max: 3 }), commit: fc.boolean() }), {
    minLength: 1,
    maxLength: 8,
  }),
  plan: fc.array(fc.constantFrom<Outcome>("ok", "ok", "ok", "fail-before", "fail-after", "duplicate"), {
    maxLength: 12,
  }),
  handlerFailures: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 24 }),
});

/** Runs so far, over both engines: event ids are unique across runs, so runs can share a database. */
let run = 0;

/** A host with both services on the flaky transport, and how to stop it. */
async function startHost(provider: ResourceProvider, faults: Faults, failuresOf: Map<string, number>) {
  const transport = flaky(new MemoryTransport(), faults);
  await transport.connect();
  const host = createHost({ services: [sourceService, sinkService(failuresOf)], transport, resources: [provider] });
  await host.start();
  return {
    host,
    async stop() {
      await host.stop();
      await transport.close();
    },
  };
}

/**
 * The property on one engine. `hostPerRun`: each run gets a new host (and, on `sqlite::memory:`, new
 * databases). Otherwise one host serves every run, as a long-running service goes through one fault
 * after another (on PostgreSQL, where starting a host per run would cost most of the time). Runs then
 * share the databases and the transport: each starts with an empty outbox and checks only its own
 * events, and at the end every effect of every run must still be there exactly once (a late duplicate
 * of an earlier run's event must have been dropped by the inbox).
 */
async function property(provider: () => ResourceProvider, options: { numRuns: number; hostPerRun: boolean }) {
  const faults: Faults = { plan: [], next: 0 };
  const failuresOf = new Map<string, number>();
  const shared = options.hostPerRun ? undefined : await startHost(provider(), faults, failuresOf);
  try {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ writes, plan, handlerFailures }) => {
        const prefix = `r${++run}-`;
        const committed: string[] = [];
        const rolledBack: string[] = [];
        let n = 0;
        const batches = writes.map((w) => {
          const ids = Array.from({ length: w.events }, () => `${prefix}e${n++}`);
          for (const id of ids) failuresOf.set(id, handlerFailures[n % Math.max(1, handlerFailures.length)] ?? 0);
          (w.commit ? committed : rolledBack).push(...ids);
          return { ids, commit: w.commit };
        });
        const { host, stop } = shared ?? (await startHost(provider(), faults, failuresOf));
        const effectsOfThisRun = async () =>
          Object.fromEntries(Object.entries(await host.call(sink.effects, {})).filter(([id]) => id.startsWith(prefix)));
        try {
          expect(await host.call(source.outbox, {}), "the outbox is empty before the run").toBe(0);
          faults.plan = plan;
          faults.next = 0;
          for (const batch of batches) await host.call(source.write, batch);
          await waitFor(
            async () =>
              (await host.call(source.outbox, {})) === 0 &&
              committed.every((id) => (failuresOf.get(id) ?? 0) === 0) &&
              Object.keys(await effectsOfThisRun()).length >= committed.length,
            { what: "every committed event handled", timeoutMs: 15_000 },
          );
          const effects = await effectsOfThisRun();
          expect(effects).toEqual(Object.fromEntries(committed.map((id) => [id, 1])));
          for (const id of rolledBack) expect(effects[id]).toBeUndefined();
        } finally {
          faults.plan = [];
          if (shared === undefined) await stop();
        }
      }),
      { numRuns: options.numRuns },
    );
    if (shared !== undefined) {
      const all = await shared.host.call(sink.effects, {});
      expect(Object.entries(all).filter(([, times]) => times !== 1)).toEqual([]);
    }
  } finally {
    await shared?.stop();
  }
}

const relay = { pollMs: 20, maxRetryDelayMs: 50 };

describe("outbox and inbox bookkeeping (property): sqlite", () => {
  it("every committed event has exactly one effect; rolled-back ones none; the outbox empties", async () => {
    await property(() => databaseProvider("sqlite::memory:", { relay }), { numRuns: 60, hostPerRun: true });
  }, 120_000);
});

describe("outbox and inbox bookkeeping (property): postgres", () => {
  const pg = usePostgres();
  it("every committed event has exactly one effect; rolled-back ones none; the outbox empties", async () => {
    const url = pg.server.url.replace(/\/postgres$/, "/{service}"); // a database per service
    await property(() => databaseProvider(url, { relay }), { numRuns: 60, hostPerRun: false });
  }, 120_000);
});
