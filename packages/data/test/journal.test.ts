import { join } from "node:path";
import { type EventEnvelope, Headers, MemoryTransport } from "@flotilla/core";
import { sleep, waitFor } from "@flotilla/testing";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EVENT_JOURNAL_FILE, eventJournalFile, openEventJournal, sqliteEventJournal } from "../src/index.js";
import { tempDir } from "./fixtures/files.js";
import { event, journaled, member, TICKED } from "./support/journal-events.js";

const NEVER = () => 3_600_000;

describe("event journal", () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  const open: MemoryTransport[] = [];

  /** One more "process" of the app on the journal (the previous one is gone: crashed or stopped). */
  async function start(retentionMs?: number): Promise<MemoryTransport> {
    const transport = await journaled(file, retentionMs);
    open.push(transport);
    return transport;
  }

  beforeEach(() => {
    dir = tempDir();
    file = eventJournalFile(dir.path);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
    dir.remove();
  });

  it("names its file in a data directory so no service's file can take it", () => {
    expect(file).toBe(join(dir.path, EVENT_JOURNAL_FILE));
    expect(EVENT_JOURNAL_FILE).toBe("flotilla.events.sqlite");
  });

  it("delivers what a stopped process left pending, oldest first, with its attempts so far", async () => {
    const first = await start();
    let failures = 0;
    await first.subscribe(member("sink.flaky", { backoffMs: NEVER }), async () => {
      failures++;
      throw new Error("not yet");
    });
    const [a, b] = [event(), event()];
    await first.publish(a);
    await first.publish(b);
    await waitFor(() => failures === 2, { what: "both events to fail once" });
    await first.close();

    const second = await start();
    const seen: Array<{ id: string; attempt: number }> = [];
    await second.subscribe(member("sink.flaky"), async (e, d) => {
      seen.push({ id: e.id, attempt: d.attempt });
    });
    await waitFor(() => seen.length === 2, { what: "the pending events" });
    expect(seen).toEqual([
      { id: a.id, attempt: 2 },
      { id: b.id, attempt: 2 },
    ]);
    await second.close();

    // Handled means acknowledged: a third start finds nothing left.
    const third = await start();
    const again: string[] = [];
    await third.subscribe(member("sink.flaky"), async (e) => {
      again.push(e.id);
    });
    // Anything still pending would be delivered before an event published now (oldest first, one at a time).
    const later = event();
    await third.publish(later);
    await waitFor(() => again.includes(later.id), { what: "the later event" });
    expect(again).toEqual([later.id]);
  });

  it("dead-letters a failing event after maxDeliveries counted across restarts", async () => {
    for (let run = 1; run <= 3; run++) {
      const transport = await start();
      let failed = false;
      await transport.subscribe(member("sink.poison", { maxDeliveries: 3, backoffMs: NEVER }), async (_e, d) => {
        expect(d.attempt).toBe(run);
        failed = true;
        throw new Error(`attempt ${d.attempt}`);
      });
      if (run === 1) await transport.publish(event());
      await waitFor(() => failed, { what: `delivery ${run}` });
      if (run === 3) {
        await waitFor(async () => (await transport.deadLetterStore.list()).length === 1, { what: "the letter" });
        const [letter] = await transport.deadLetterStore.list("sink.poison");
        expect(letter).toMatchObject({ attempts: 3, error: { message: "attempt 3" } });
        expect(await transport.lag()).toEqual({ "sink.poison": 0 });
      }
      await transport.close();
    }
  });

  it("keeps events for a remembered group while none of its members runs; broadcast is not journaled", async () => {
    const consumer = await start();
    await consumer.subscribe(member("sink.later"), async () => {});
    await consumer.subscribe(member(undefined), async () => {});
    await consumer.close();

    const producer = await start();
    const published = [event(), event()];
    for (const e of published) await producer.publish(e);
    await producer.close();

    const restarted = await start();
    const durable: string[] = [];
    const broadcast: string[] = [];
    await restarted.subscribe(member(undefined), async (e) => {
      broadcast.push(e.id);
    });
    await restarted.subscribe(member("sink.later"), async (e) => {
      durable.push(e.id);
    });
    await waitFor(() => durable.length === 2, { what: "the kept events" });
    expect(durable).toEqual(published.map((e) => e.id));
    expect(broadcast).toEqual([]);
  });

  it("ignores a re-published message id, across restarts too", async () => {
    const transport = await start();
    const seen: string[] = [];
    await transport.subscribe(member("sink.once"), async (e) => {
      seen.push(e.id);
    });
    const once = event();
    await transport.publish(once);
    await transport.publish(once);
    await waitFor(() => seen.length === 1, { what: "the event" });
    await transport.close();

    const again = await start();
    await again.publish(once);
    await again.publish(event());
    expect((await again.history?.([TICKED]))?.total).toBe(2);
  });

  it("lists, gets, retries (to the letter's group only) and drops dead letters", async () => {
    const transport = await start();
    let failing = true;
    const seenByA: EventEnvelope[] = [];
    const seenByB: string[] = [];
    await transport.subscribe(member("a.flaky", { maxDeliveries: 1 }), async (e) => {
      if (failing) throw new Error("down");
      seenByA.push(e);
    });
    await transport.subscribe(member("b.fine"), async (e) => {
      seenByB.push(e.id);
    });
    const [first, second] = [event(), event()];
    await transport.publish(first);
    await transport.publish(second);
    const store = transport.deadLetterStore;
    await waitFor(async () => (await store.list()).length === 2 && seenByB.length === 2, { what: "two letters" });
    const letters = await store.list("a.flaky");
    expect(letters.map((l) => l.event.id)).toEqual([first.id, second.id]);
    expect(letters[0]).toMatchObject({ group: "a.flaky", attempts: 1, error: { code: "INTERNAL", message: "down" } });
    expect(await store.get(letters[0]?.id as string)).toEqual(letters[0]);
    expect(await store.list("b.fine")).toEqual([]);

    failing = false;
    await store.retry(letters[0]?.id as string);
    await waitFor(() => seenByA.length === 1, { what: "the retried event" });
    expect(seenByA[0]).toMatchObject({ id: first.id, headers: { [Headers.retryGroup]: "a.flaky" } });
    await store.drop(letters[1]?.id as string);
    expect(await store.list()).toEqual([]);
    // Had the retry reached b.fine too, b would see it before an event published after it (one at a time).
    const later = event();
    await transport.publish(later);
    await waitFor(() => seenByB.includes(later.id), { what: "the later event in b.fine" });
    expect(seenByB).toEqual([first.id, second.id, later.id]);
    // A retry is no new event: history has each event once (the two, and the later one).
    expect((await transport.history?.([TICKED]))?.total).toBe(3);

    const gone = letters[0]?.id as string;
    expect(await store.get(gone)).toBeUndefined();
    await expect(store.retry(gone)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(store.drop(gone)).rejects.toMatchObject({ code: "NOT_FOUND" });
    // Ids that cannot be one are the caller's mistake, as on NATS.
    for (const id of ["x", "-1", "99999999999999999999"]) {
      await expect(store.get(id)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(store.retry(id)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(store.drop(id)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });

  it("takes a retry made by another process while it runs", async () => {
    const transport = await start();
    let failing = true;
    const handled: EventEnvelope[] = [];
    await transport.subscribe(member("sink.retried", { maxDeliveries: 1 }), async (e) => {
      if (failing) throw new Error("down");
      handled.push(e);
    });
    await transport.publish(event());
    await waitFor(async () => (await transport.deadLetterStore.list()).length === 1, { what: "the letter" });
    failing = false;

    const operator = openEventJournal(file);
    try {
      const [letter] = await operator.deadLetters.list("sink.retried");
      await operator.deadLetters.retry(letter?.id as string);
    } finally {
      operator.close();
    }
    await waitFor(() => handled.length === 1, { what: "the retry, picked up", timeoutMs: 5_000 });
    expect(handled[0]?.headers[Headers.retryGroup]).toBe("sink.retried");
    expect(await transport.deadLetterStore.list()).toEqual([]);
  });

  it("delivers a retry made while the app was down at its next start", async () => {
    const first = await start();
    await first.subscribe(member("sink.down", { maxDeliveries: 1 }), async () => {
      throw new Error("down");
    });
    const failed = event();
    await first.publish(failed);
    await waitFor(async () => (await first.deadLetterStore.list()).length === 1, { what: "the letter" });
    await first.close();

    const operator = openEventJournal(file);
    const [letter] = await operator.deadLetters.list();
    await operator.deadLetters.retry(letter?.id as string);
    operator.close();

    const second = await start();
    const handled: string[] = [];
    await second.subscribe(member("sink.down"), async (e) => {
      handled.push(e.id);
    });
    await waitFor(() => handled.length === 1, { what: "the retry" });
    expect(handled).toEqual([failed.id]);
  });

  it("refuses to retry a broadcast subscriber's letter: no durable group would take it", async () => {
    const transport = await start();
    await transport.subscribe(member(undefined, { maxDeliveries: 1 }), async () => {
      throw new Error("down");
    });
    await transport.publish(event());
    await waitFor(async () => (await transport.deadLetterStore.list()).length === 1, { what: "the letter" });
    const [letter] = await transport.deadLetterStore.list();
    await expect(transport.deadLetterStore.retry(letter?.id as string)).rejects.toMatchObject({
      code: "FLOTILLA_DEAD_LETTER_NOT_RETRYABLE",
    });
    await transport.deadLetterStore.drop(letter?.id as string);
  });

  it("reads the history of some types oldest first, with the total, up to the newest when opened", async () => {
    const transport = await start();
    const ids: string[] = [];
    for (let i = 0; i < 2400; i++) {
      const e = event(i % 3 === 2 ? "src.Other" : TICKED);
      await transport.publish(e);
      ids.push(e.id);
    }
    await transport.publish(event("src.Ignored"));
    const history = await transport.history?.([TICKED, "src.Other"]);
    expect(history?.total).toBe(2400);
    await transport.publish(event()); // after opening: not part of this history
    const read: string[] = [];
    for await (const e of history ?? []) read.push(e.id);
    expect(read).toEqual(ids);
    expect((await transport.history?.(["src.Other"]))?.total).toBe(800);

    const operator = openEventJournal(file);
    expect(operator.history([TICKED]).total).toBe(1601);
    operator.close();
  });

  it("prunes events past retention, never one a group still has pending", async () => {
    const first = await start();
    await first.subscribe(member("sink.absent"), async () => {});
    await first.close();
    const producer = await start();
    const kept = event();
    await producer.publish(kept); // pending for sink.absent, which does not run
    await producer.publish(event("src.Unheard")); // nobody's: prunable
    await producer.close();
    await sleep(5);

    const pruning = await start(1); // prunes on start
    const history: string[] = [];
    for await (const e of (await pruning.history?.([TICKED, "src.Unheard"])) ?? []) history.push(e.id);
    expect(history).toEqual([kept.id]);
    const handled: string[] = [];
    await pruning.subscribe(member("sink.absent"), async (e) => {
      handled.push(e.id);
    });
    await waitFor(() => handled.length === 1, { what: "the kept event" });
  });

  it("reports lag per durable group of this process", async () => {
    const transport = await start();
    const sub = await transport.subscribe(member("sink.lag"), async () => {});
    await transport.subscribe(member(undefined), async () => {});
    await sub.close();
    for (let i = 0; i < 3; i++) await transport.publish(event());
    expect(await transport.lag()).toEqual({ "sink.lag": 3 });
    await transport.close();

    const restarted = await start();
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    await restarted.subscribe(member("sink.lag"), () => {
      entered();
      return gate;
    });
    await inHandler;
    expect(await restarted.lag()).toEqual({ "sink.lag": 2 }); // loaded from the journal, one in flight
    release();
    await waitFor(async () => (await restarted.lag())["sink.lag"] === 0, { what: "the lag to drain" });
  });

  it("refuses bad configuration and files that are no journal, with stable codes", async () => {
    expect(() => new MemoryTransport({ journal: sqliteEventJournal(file), retentionMs: 0 })).toThrow(
      expect.objectContaining({ code: "FLOTILLA_CONFIG" }),
    );
    expect(() => openEventJournal(join(dir.path, "missing.sqlite"))).toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
    const service = join(dir.path, "orders.sqlite");
    new Database(service).exec("create table orders (id text)").close();
    expect(() => openEventJournal(service)).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    const future = join(dir.path, "future.sqlite");
    sqliteEventJournal(future).close();
    new Database(future).pragma("user_version = 99");
    expect(() => sqliteEventJournal(future)).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
  });
});
