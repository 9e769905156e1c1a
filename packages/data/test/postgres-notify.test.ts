/**
 * PostgreSQL's LISTEN/NOTIFY wakes the relay of the instance holding the lease when ANOTHER instance
 * committed the event, with polling switched off: nothing else can carry the event to its subscriber.
 *
 * Two instances of one service share its database. The lease holder (`holder`) is on the transport the
 * subscriber listens on; the other instance (`writer`) is on a transport of its own, with nobody
 * listening. So an event reaches the subscriber only if the holder's relay published it, and the
 * holder's relay runs only when something wakes it: no poll (`pollMs: 0`), no local commit, and a
 * lease too long to lapse during the test (a lapsed lease would let the writer's relay take over).
 */
import {
  action,
  createHost,
  defineContract,
  defineService,
  event,
  type Host,
  MemoryTransport,
  type ServiceDefinition,
} from "@flotilla/core";
import { waitFor } from "@flotilla/testing";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type DatabaseDialect, database, databaseProvider, type Kysely } from "../src/index.js";
import { postgresDialect } from "../src/internal.js";
import { outboxRows } from "./support/outbox-rows.js";
import { usePostgres } from "./support/postgres.js";

const pg = usePostgres();

interface SourceTables {
  things: { id: string };
  flotilla_outbox_lease: { name: string; holder: string | null; expires_at: number };
}

function sourceContract(service: string) {
  return defineContract({
    service,
    actions: {
      place: action({ input: z.object({ id: z.string() }), output: z.object({}) }),
      state: action({ input: z.object({}), output: z.object({ rows: z.number(), holder: z.string().nullable() }) }),
    },
    events: { Placed: event({ schema: z.object({ id: z.string() }) }) },
  });
}

function sourceService(api: ReturnType<typeof sourceContract>): ServiceDefinition {
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
      async place({ id }, ctx) {
        await ctx.db.transaction().execute(async (trx) => {
          await trx.insertInto("things").values({ id }).execute();
          await ctx.emit(api.Placed, { id });
        });
        return {};
      },
      async state(_input, ctx) {
        const lease = await ctx.db.selectFrom("flotilla_outbox_lease").select("holder").executeTakeFirstOrThrow();
        return { rows: await outboxRows(ctx.db), holder: lease.holder };
      },
    },
  });
}

/** A subscriber without a database: it records what reached it, in order. */
function sinkService(service: string, source: ReturnType<typeof sourceContract>, seen: string[]) {
  return defineService(defineContract({ service, actions: {} }), {
    actions: {},
    subscriptions: {
      record: {
        event: source.Placed,
        async handle({ id }) {
          seen.push(id);
        },
      },
    },
  });
}

/** No polling, and a lease that cannot lapse within a test. */
const relay = { pollMs: 0, leaseMs: 120_000 };
const url = () => pg.server.url.replace(/\/postgres$/, "/{service}");

/** The real PostgreSQL dialect, except that its LISTEN is on a channel nobody notifies: a broken wake-up. */
function deafDialect(): DatabaseDialect {
  const real = postgresDialect({ url: url() });
  return {
    ...real,
    listen: (owner, _channel, onNotify) => (real.listen as NonNullable<typeof real.listen>)(owner, "nobody", onNotify),
  };
}

let unique = 0;

describe("postgres: NOTIFY wakes the lease holder's relay (polling off)", () => {
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });

  async function start(transport: MemoryTransport, services: ServiceDefinition[], holderDialect?: DatabaseDialect) {
    const host = createHost({
      services,
      transport,
      resources: [databaseProvider(holderDialect ?? url(), { relay })],
    });
    hosts.push(host);
    await host.start();
    return host;
  }

  async function world(holderDialect?: DatabaseDialect) {
    const n = ++unique;
    const api = sourceContract(`notify-src-${n}`);
    const seen: string[] = [];
    const shared = new MemoryTransport();
    const alone = new MemoryTransport();
    await shared.connect();
    await alone.connect();
    // The holder starts first: its relay's first round takes the lease; the writer's then finds it held.
    const holder = await start(shared, [sourceService(api), sinkService(`notify-sink-${n}`, api, seen)], holderDialect);
    const writer = await start(alone, [sourceService(api)]);
    const holderId = `${api.service}-${holder.id}`;
    await waitFor(async () => (await writer.call(api.state, {})).holder === holderId, { what: "the holder's lease" });
    return { api, seen, holder, writer, holderId };
  }

  it("delivers an event committed by the instance without the lease", async () => {
    const { api, seen, writer, holderId } = await world();
    await writer.call(api.place, { id: "from-the-writer" });
    await waitFor(() => seen.includes("from-the-writer"), { what: "the writer's event, relayed by the holder" });
    // A second one: the holder's LISTEN keeps working after the first wake-up.
    await writer.call(api.place, { id: "again" });
    await waitFor(() => seen.includes("again"), { what: "the writer's second event" });
    expect(seen).toEqual(["from-the-writer", "again"]);
    const state = await writer.call(api.state, {});
    expect(state.holder).toBe(holderId);
    await waitFor(async () => (await writer.call(api.state, {})).rows === 0, { what: "an empty outbox" });
  });

  it("listens again after its LISTEN connection is killed", async () => {
    const { api, seen, writer } = await world();
    // Terminated by the server: the relay logs it, drops the connection and opens a new one.
    const killed = await pg.query<{ pid: number }>(
      "select pid from pg_stat_activity where query like 'LISTEN%' and pg_terminate_backend(pid)",
    );
    expect(killed.length).toBeGreaterThan(0);
    await waitFor(
      async () => (await pg.query("select 1 from pg_stat_activity where query like 'LISTEN%'")).length > 0,
      {
        what: "a new LISTEN connection",
      },
    );
    await writer.call(api.place, { id: "after-the-kill" });
    await waitFor(() => seen.includes("after-the-kill"), { what: "the event, woken by the new LISTEN" });
  });

  // The control: the same world with the holder listening on the wrong channel. Absence can only be
  // shown by waiting here; 1.5 s is past the 1 s default poll, so a relay that kept polling despite
  // `pollMs: 0` (or one woken by anything but NOTIFY) would deliver within it and fail this test.
  it("control: with the holder deaf to NOTIFY, the writer's event waits until the holder is woken locally", async () => {
    const { api, seen, holder, writer } = await world(deafDialect());
    await writer.call(api.place, { id: "unheard" });
    await expect(
      waitFor(() => seen.length > 0, { what: "anything", timeoutMs: 1_500, intervalMs: 20 }),
    ).rejects.toThrow(/timed out/);
    expect((await writer.call(api.state, {})).rows).toBe(1);
    // A commit in the holder wakes its relay locally: the waiting event goes out first, in commit order.
    await holder.call(api.place, { id: "local" });
    await waitFor(() => seen.length === 2, { what: "both events" });
    expect(seen).toEqual(["unheard", "local"]);
  });
});
