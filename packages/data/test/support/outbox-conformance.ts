/** @module Outbox, relay and inbox conformance: the same guarantees on every database engine. */
import {
  action,
  createHost,
  defineContract,
  defineService,
  type Host,
  MemoryTransport,
  type ResourceProvider,
  type ServiceDefinition,
} from "@flotilla/core";
import { waitFor } from "@flotilla/testing";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { database, type Kysely } from "../../src/index.js";
import { sourceContract, sourceService } from "./outbox-services.js";
import { type RelayInstance, startRelayInstance } from "./relay-instances.js";

export interface OutboxTarget {
  name: string;
  /** A new provider over the target's storage: every provider it returns reaches the same data. */
  provider(): ResourceProvider;
  /**
   * The same storage as a database URL for child processes (`sqlite:<dir>`, `postgres://…`). Instances
   * sharing a database run in processes of their own, as deployed: on SQLite two in ONE process would
   * stall each other (better-sqlite3 waits for a lock synchronously, blocking the very event loop the
   * holder needs to finish).
   */
  url(): string;
}

interface SinkTables {
  effects: { event_id: string; thing: string; n: number };
}

let unique = 0;

function sinkContract(service: string) {
  return defineContract({
    service,
    actions: {
      effects: action({
        input: z.object({}),
        output: z.array(z.object({ thing: z.string(), n: z.number() })),
      }),
    },
  });
}

/** Counts each effect, and fails the first delivery of things named `fail-once-*` after its effect. */
function sinkService(service: string, source: ReturnType<typeof sourceContract>, seen: string[]): ServiceDefinition {
  const failed = new Set<string>();
  return defineService(sinkContract(service), {
    database: database<SinkTables>({
      migrations: {
        "001": {
          // biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's types
          up: (db: Kysely<any>) =>
            db.schema
              .createTable("effects")
              .addColumn("event_id", "text", (c) => c.notNull())
              .addColumn("thing", "text", (c) => c.primaryKey())
              .addColumn("n", "integer", (c) => c.notNull())
              .execute(),
        },
      },
    }),
    actions: {
      async effects(_input, ctx) {
        return (await ctx.db.selectFrom("effects").select(["thing", "n"]).orderBy("thing").execute()).map((r) => ({
          thing: r.thing,
          n: Number(r.n),
        }));
      },
    },
    subscriptions: {
      record: {
        event: source.Placed,
        maxInFlight: 1,
        async handle({ id }, ctx, meta) {
          await ctx.db
            .insertInto("effects")
            .values({ event_id: meta.envelope.id, thing: id, n: 1 })
            .onConflict((oc) => oc.column("thing").doUpdateSet((eb) => ({ n: eb("effects.n", "+", 1) })))
            .execute();
          if (id.startsWith("fail-once-") && !failed.has(id)) {
            failed.add(id);
            throw new Error("failed after the effect");
          }
          seen.push(id);
        },
      },
    },
  });
}

export function outboxConformance(target: OutboxTarget): void {
  describe(`outbox and inbox conformance: ${target.name}`, () => {
    const hosts: Host[] = [];
    const children: RelayInstance[] = [];
    afterEach(async () => {
      for (const child of children.splice(0)) child.kill();
      await Promise.all(hosts.splice(0).map((h) => h.stop()));
    });

    function setup() {
      const n = ++unique;
      const source = sourceContract(`src-${n}`);
      const sink = sinkContract(`sink-${n}`);
      const seen: string[] = [];
      return {
        source,
        sink,
        seen,
        sourceService: sourceService(`src-${n}`),
        sinkService: sinkService(`sink-${n}`, source, seen),
      };
    }

    async function start(transport: MemoryTransport, ...services: ServiceDefinition[]): Promise<Host> {
      const host = createHost({ services, transport, resources: [target.provider()] });
      hosts.push(host);
      await host.start();
      return host;
    }

    async function connected(): Promise<MemoryTransport> {
      const transport = new MemoryTransport();
      await transport.connect();
      return transport;
    }

    it("publishes an event emitted in a transaction once it commits, and empties the outbox", async () => {
      const s = setup();
      const host = await start(await connected(), s.sourceService, s.sinkService);
      await host.call(s.source.place, { id: "a", fail: false });
      await host.call(s.source.placeLoose, { id: "b" });
      await waitFor(async () => (await host.call(s.sink.effects, {})).length === 2, { what: "both effects" });
      expect(await host.call(s.sink.effects, {})).toEqual([
        { thing: "a", n: 1 },
        { thing: "b", n: 1 },
      ]);
      await waitFor(async () => (await host.call(s.source.outbox, {})).rows === 0, { what: "an empty outbox" });
    });

    it("never publishes an event whose transaction rolled back", async () => {
      const s = setup();
      const host = await start(await connected(), s.sourceService, s.sinkService);
      await expect(host.call(s.source.place, { id: "gone", fail: true })).rejects.toThrow();
      await host.call(s.source.place, { id: "kept", fail: false });
      // Had the rolled-back event a row, it would precede "kept" in the outbox, and the sink (one event
      // at a time, in publish order) would have seen it first: seeing "kept" is enough, no wait needed.
      await waitFor(async () => s.seen.includes("kept"), { what: "the committed event" });
      expect(s.seen).toEqual(["kept"]);
      // Published rows are deleted in batches, shortly after.
      await waitFor(async () => (await host.call(s.source.outbox, {})).rows === 0, { what: "an empty outbox" });
    });

    it("rolls a failed handler's effect back with its inbox record; the redelivery applies it once", async () => {
      const s = setup();
      const host = await start(await connected(), s.sourceService, s.sinkService);
      await host.call(s.source.place, { id: "fail-once-1", fail: false });
      await waitFor(async () => s.seen.includes("fail-once-1"), { what: "the redelivery after a failure" });
      expect(await host.call(s.sink.effects, {})).toEqual([{ thing: "fail-once-1", n: 1 }]);
    });

    it("acknowledges a duplicate publish of one event without running the handler again", async () => {
      const s = setup();
      const transport = await connected();
      const host = await start(transport, s.sinkService);
      const envelope = {
        id: `dup-${unique}`,
        type: s.source.Placed.type,
        source: s.source.service,
        version: 1,
        time: new Date().toISOString(),
        headers: {},
        data: { id: "dup" },
      };
      await transport.publish(envelope);
      await transport.publish(envelope);
      await transport.publish({ ...envelope, id: `other-${unique}`, data: { id: "other" } });
      // The handler records "other" before its transaction commits: wait for the committed effect, which
      // (one event at a time, in order) also means both deliveries of the duplicate are done.
      await waitFor(async () => (await host.call(s.sink.effects, {})).some((e) => e.thing === "other"), {
        what: "the last event's effect",
      });
      expect(await host.call(s.sink.effects, {})).toEqual([
        { thing: "dup", n: 1 },
        { thing: "other", n: 1 },
      ]);
    });

    it("publishes in commit order", async () => {
      const s = setup();
      const host = await start(await connected(), s.sourceService, s.sinkService);
      const ids = Array.from({ length: 60 }, (_, i) => `o-${String(i).padStart(3, "0")}`);
      await host.call(s.source.placeMany, { ids: ids.slice(0, 20) });
      for (const id of ids.slice(20, 40)) await host.call(s.source.place, { id, fail: false });
      await host.call(s.source.placeMany, { ids: ids.slice(40) });
      await waitFor(async () => s.seen.length === ids.length, { what: "every event" });
      expect(s.seen).toEqual(ids);
    });

    it("relays from one instance at a time (two processes); the other takes over when it stops", {
      timeout: 60_000,
    }, async () => {
      const service = `src-${++unique}`;
      const [a, b] = await Promise.all([
        startRelayInstance(target.url(), service),
        startRelayInstance(target.url(), service),
      ]);
      children.push(a, b);
      // Each process's transport is its own: what a process reports as published, its relay published.
      const ids = Array.from({ length: 40 }, (_, i) => `x-${i}`);
      await Promise.all(ids.map((id, i) => (i % 2 ? a : b).place(id)));
      await waitFor(() => a.published.length + b.published.length >= ids.length, {
        what: "every event published",
        timeoutMs: 15_000,
      });
      const { holder } = await a.state();
      expect([a.instance, b.instance]).toContain(holder);
      const [stopping, staying] = holder === a.instance ? [a, b] : [b, a];
      // The holder stops (handing the lease back) and its process exits: its list is complete.
      await stopping.stop();
      expect([...stopping.published].sort()).toEqual([...ids].sort());
      await staying.place("after");
      await waitFor(() => staying.published.includes("after"), { what: "the event relayed by the other instance" });
      // Relays publish in commit order, so nothing of the 40 can still come from this relay after "after".
      expect(staying.published).toEqual(["after"]);
      expect((await staying.state()).holder).toBe(staying.instance);
    });
  });
}
