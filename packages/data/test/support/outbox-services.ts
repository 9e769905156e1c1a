/** @module The emitting service of the outbox conformance suite, shared by the suite and its child processes. */
import { action, defineContract, defineService, event, type ServiceDefinition } from "@flotilla/core";
import { z } from "zod";
import { database, type Kysely } from "../../src/index.js";
import { outboxRows } from "./outbox-rows.js";

interface SourceTables {
  things: { id: string };
  flotilla_outbox_lease: { name: string; holder: string | null; expires_at: number };
}

export function sourceContract(service: string) {
  return defineContract({
    service,
    actions: {
      place: action({ input: z.object({ id: z.string(), fail: z.boolean() }), output: z.object({}) }),
      placeLoose: action({ input: z.object({ id: z.string() }), output: z.object({}) }),
      placeMany: action({ input: z.object({ ids: z.array(z.string()) }), output: z.object({}) }),
      outbox: action({ input: z.object({}), output: z.object({ rows: z.number(), holder: z.string().nullable() }) }),
    },
    events: { Placed: event({ schema: z.object({ id: z.string() }) }) },
  });
}

export function sourceService(service: string): ServiceDefinition {
  const api = sourceContract(service);
  return defineService(api, {
    database: database<SourceTables>({
      migrations: {
        "001": {
          // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
          up: (db: Kysely<any>) =>
            db.schema
              .createTable("things")
              .addColumn("id", "text", (c) => c.primaryKey())
              .execute(),
        },
      },
    }),
    actions: {
      async place({ id, fail }, ctx) {
        await ctx.db.transaction().execute(async (trx) => {
          await trx.insertInto("things").values({ id }).execute();
          await ctx.emit(api.Placed, { id });
          if (fail) throw new Error("rolled back after emitting");
        });
        return {};
      },
      async placeLoose({ id }, ctx) {
        await ctx.emit(api.Placed, { id });
        return {};
      },
      async placeMany({ ids }, ctx) {
        await ctx.db.transaction().execute(async (trx) => {
          for (const id of ids) {
            await trx.insertInto("things").values({ id }).execute();
            await ctx.emit(api.Placed, { id });
          }
        });
        return {};
      },
      async outbox(_input, ctx) {
        const lease = await ctx.db.selectFrom("flotilla_outbox_lease").select("holder").executeTakeFirstOrThrow();
        return { rows: await outboxRows(ctx.db), holder: lease.holder };
      },
    },
  });
}
