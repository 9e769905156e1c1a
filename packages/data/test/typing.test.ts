import { action, createHost, defineContract, defineService } from "@flotilla/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { database, type Kysely, sqliteDatabases } from "../src/index.js";
import { createTable, type NotesSchema } from "./fixtures/notes-service.js";

const typed = defineContract({
  service: "typed",
  actions: { count: action({ input: z.object({}), output: z.object({ n: z.number() }) }) },
});

describe("types", () => {
  it("gives handlers ctx.db as Kysely<Schema> (checked by tsc)", async () => {
    const service = defineService(typed, {
      database: database<NotesSchema>({ migrations: { "001_notes": createTable("notes") } }),
      async start(ctx) {
        expectTypeOf(ctx.db).toEqualTypeOf<Kysely<NotesSchema>>();
      },
      actions: {
        async count(_, ctx) {
          expectTypeOf(ctx.db).toEqualTypeOf<Kysely<NotesSchema>>();
          // @ts-expect-error a table this service's schema does not have
          ctx.db.selectFrom("orders");
          const rows = await ctx.db.selectFrom("notes").select(["id", "text"]).execute();
          expectTypeOf(rows).toEqualTypeOf<{ id: number; text: string }[]>();
          return { n: rows.length };
        },
      },
    });
    const host = createHost({ services: [service], resources: [sqliteDatabases({ dataDir: ":memory:" })] });
    await host.start();
    try {
      expect(await host.call(typed.count, {})).toEqual({ n: 0 });
    } finally {
      await host.stop();
    }
  });
});
