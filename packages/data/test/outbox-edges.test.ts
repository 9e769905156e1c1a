/** The outbox's and projections' boundaries: refused definitions and events, nested transactions. */
import { action, createHost, defineContract, defineService, event, type Host, MemoryTransport } from "@flotilla/core";
import { waitFor } from "@flotilla/testing";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { database, defineProjection, type Kysely, sqliteDatabases } from "../src/index.js";
import { outboxRows } from "./support/outbox-rows.js";

const api = defineContract({
  service: "edges",
  actions: {
    emitBig: action({ input: z.object({ bytes: z.number() }), output: z.object({}) }),
    emitOne: action({ input: z.object({ id: z.string() }), output: z.object({}) }),
    outbox: action({ input: z.object({}), output: z.number() }),
    notes: action({ input: z.object({}), output: z.array(z.string()) }),
  },
  events: { Noted: event({ schema: z.object({ id: z.string(), text: z.string() }) }) },
});

interface Tables {
  notes: { id: string };
}

/** The handler writes through a helper that opens its own transaction: it joins the handler's. */
async function addNote(db: Kysely<Tables>, id: string, fail: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.insertInto("notes").values({ id }).execute();
  });
  if (fail) throw new Error("fails after the nested transaction");
}

const failOnce = new Set<string>();

const service = defineService(api, {
  database: database<Tables>({
    migrations: {
      "001": {
        // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
        up: (db: Kysely<any>) =>
          db.schema
            .createTable("notes")
            .addColumn("id", "text", (c) => c.primaryKey())
            .execute(),
      },
    },
  }),
  actions: {
    async emitBig({ bytes }, ctx) {
      await ctx.emit(api.Noted, { id: "big", text: "x".repeat(bytes) });
      return {};
    },
    async emitOne({ id }, ctx) {
      await ctx.emit(api.Noted, { id, text: "" });
      return {};
    },
    async outbox(_input, ctx) {
      return outboxRows(ctx.db);
    },
    async notes(_input, ctx) {
      return (await ctx.db.selectFrom("notes").select("id").orderBy("id").execute()).map((r) => r.id);
    },
  },
  subscriptions: {
    note: {
      event: api.Noted,
      async handle({ id }, ctx) {
        const fail = id.startsWith("fail-") && !failOnce.has(id);
        if (fail) failOnce.add(id);
        await addNote(ctx.db, id, fail);
      },
    },
  },
});

describe("outbox and projection boundaries", () => {
  let host: Host | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  async function start(): Promise<Host> {
    const transport = new MemoryTransport();
    await transport.connect();
    host = createHost({ services: [service], transport, resources: [sqliteDatabases({ dataDir: ":memory:" })] });
    await host.start();
    return host;
  }

  it("refuses an event too large for any broker at emit, writing nothing", async () => {
    const h = await start();
    await expect(h.call(api.emitBig, { bytes: 1_100_000 })).rejects.toMatchObject({
      code: "FLOTILLA_PAYLOAD_TOO_LARGE",
    });
    expect(await h.call(api.outbox, {})).toBe(0);
  });

  it("joins a transaction opened inside an exactly-once handler, and rolls it back with the handler", async () => {
    const h = await start();
    await h.call(api.emitOne, { id: "fail-1" });
    await h.call(api.emitOne, { id: "ok-1" });
    await waitFor(async () => (await h.call(api.notes, {})).length === 2, { what: "both notes" });
    // fail-1's first delivery wrote its note in the nested transaction, then failed: rolled back,
    // so the redelivery could write it again (a second insert would break the primary key).
    expect(await h.call(api.notes, {})).toEqual(["fail-1", "ok-1"]);
  });

  it("refuses projection definitions it cannot run", () => {
    const handlers = { noted: { event: api.Noted, handle: async () => {} } };
    const reset = async () => {};
    expect(() => defineProjection({ name: "bad name", handlers, reset })).toThrow(/projection name/);
    expect(() => defineProjection({ name: "ok", handlers, reset: undefined as never })).toThrow(/reset/);
    expect(() => defineProjection({ name: "ok", handlers: { noted: { event: api.Noted } as never }, reset })).toThrow(
      /handle/,
    );
    const projection = defineProjection({ name: "view", handlers, reset });
    expect(() =>
      defineService(api, {
        actions: service.actions as never,
        subscriptions: { "view.noted": { event: api.Noted, handle: async () => {} } },
        projections: [projection],
      }),
    ).toThrow(/defined twice/);
  });
});
