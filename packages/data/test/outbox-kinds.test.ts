/** The outbox keeps messages of a kind this version does not know: it stops relaying rather than skip one. */
import { action, createHost, defineContract, defineService, event, type Host, MemoryTransport } from "@flotilla/core";
import { waitFor } from "@flotilla/testing";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { database, sql, sqliteDatabases } from "../src/index.js";
import { outboxRows } from "./support/outbox-rows.js";

const api = defineContract({
  service: "kinds",
  actions: {
    storeUnknown: action({ input: z.object({}), output: z.object({}) }),
    emitOne: action({ input: z.object({}), output: z.object({}) }),
    outbox: action({ input: z.object({}), output: z.number() }),
  },
  events: { Happened: event({ schema: z.object({}) }) },
});

const service = defineService(api, {
  database: database({ migrations: {} }),
  actions: {
    async storeUnknown(_input, ctx) {
      // What a newer version could have left in the outbox: a kind this one does not know.
      await sql`insert into flotilla_outbox (kind, event_id, type, envelope, created_at)
        values ('signal', 'sig-1', 'kinds.doIt', '{}', ${Date.now()})`.execute(ctx.db);
      return {};
    },
    async emitOne(_input, ctx) {
      await ctx.emit(api.Happened, {});
      return {};
    },
    outbox: (_input, ctx) => outboxRows(ctx.db),
  },
});

describe("outbox message kinds", () => {
  let host: Host | undefined;
  let transport: MemoryTransport | undefined;
  afterEach(async () => {
    await host?.stop();
    await transport?.close();
  });

  it("stops relaying at a kind it does not know, loudly, and publishes nothing after it", async () => {
    const logs: { msg?: string; err?: { message?: string } }[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => logs.push(JSON.parse(line)) });
    transport = new MemoryTransport();
    await transport.connect();
    const seen: string[] = [];
    await transport.subscribe(
      { types: [api.Happened.type], instance: "t", maxInFlight: 1, maxDeliveries: 1, backoffMs: () => 0 },
      async (e) => {
        seen.push(e.id);
      },
    );
    const databases = sqliteDatabases({ dataDir: ":memory:" });
    host = createHost({ services: [service], transport, resources: [databases], logger });
    await host.start();
    await host.call(api.storeUnknown, {});
    await host.call(api.emitOne, {});
    await waitFor(() => logs.some((l) => l.msg === "outbox relay failed; retrying"), { what: "the relay's warning" });
    const warning = logs.find((l) => l.msg === "outbox relay failed; retrying");
    expect(warning?.err?.message).toMatch(/kind "signal", unknown to this version/);
    // Order is kept: the event committed after the unknown message waits behind it.
    expect(await host.call(api.outbox, {})).toBe(2);
    expect(seen).toEqual([]);
  });
});
