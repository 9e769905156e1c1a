/** @module A service whose one write accepts an idempotency key: the idempotency conformance suite runs on it. */
import { randomUUID } from "node:crypto";
import { action, defineContract, defineService, type ServiceDefinition } from "@flotilla/core";
import { z } from "zod";
import { database, type Kysely } from "../../src/index.js";

interface LedgerSchema {
  entries: { id: string; label: string; amount: number };
}

export function ledgerContract(service: string) {
  return defineContract({
    service,
    errors: { REFUSED: "FAILED_PRECONDITION" },
    actions: {
      /** Writes an entry; `fail` makes it fail after writing, as the answer (`refused`) or as a fault (`unavailable`). */
      add: action({
        input: z.object({
          label: z.string(),
          amount: z.number().int(),
          fail: z.enum(["refused", "unavailable"]).optional(),
        }),
        output: z.object({ id: z.string(), entries: z.number() }),
        idempotencyKey: true,
      }),
      entries: action({ input: z.object({}), output: z.number() }),
    },
  });
}

/** The service, and how many times its `add` handler ran (a replay does not run it). */
export function ledgerService(service: string): { service: ServiceDefinition; runs: () => number } {
  const api = ledgerContract(service);
  let runs = 0;
  const count = async (db: Kysely<LedgerSchema>) =>
    Number(
      (
        await db
          .selectFrom("entries")
          .select((e) => e.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const definition = defineService(api, {
    database: database<LedgerSchema>({
      migrations: {
        "001_entries": {
          // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
          async up(db: Kysely<any>) {
            await db.schema
              .createTable("entries")
              .addColumn("id", "text", (c) => c.primaryKey())
              .addColumn("label", "text", (c) => c.notNull())
              .addColumn("amount", "integer", (c) => c.notNull())
              .execute();
          },
        },
      },
    }),
    actions: {
      async add({ label, amount, fail }, ctx) {
        runs++;
        const id = randomUUID();
        await ctx.db.insertInto("entries").values({ id, label, amount }).execute();
        if (fail === "refused") throw api.error("REFUSED", "refused after writing");
        if (fail === "unavailable") throw new Error("fault after writing");
        return { id, entries: await count(ctx.db) };
      },
      entries: (_input, ctx) => count(ctx.db),
    },
  });
  return { service: definition, runs: () => runs };
}
