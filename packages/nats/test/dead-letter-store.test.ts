import { type EventEnvelope, FlotillaError } from "@flotilla/core";
import { rejectionOf, waitFor } from "@flotilla/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { event, type Network, network, subscribeDefaults } from "./helpers.js";

describe("nats transport: the dead-letter store", () => {
  let net: Network;
  beforeEach(async () => {
    net = await network();
  });
  afterEach(() => net.close());

  it("lists and gets a letter by id, and retries it for its group only, once", async () => {
    const sink = await net.connect();
    let failing = true;
    const flaky: EventEnvelope[] = [];
    const audit: string[] = [];
    await sink.subscribe(
      { ...subscribeDefaults, types: ["src.Ticked"], group: "sink.flaky", maxDeliveries: 2 },
      async (e) => {
        if (failing) throw new FlotillaError("FAILED_PRECONDITION", "not yet");
        flaky.push(e);
      },
    );
    await sink.subscribe({ ...subscribeDefaults, types: ["src.Ticked"], group: "sink.audit" }, async (e) => {
      audit.push(e.id);
    });
    const source = await net.connect();
    const store = source.deadLetterStore;
    const sent = event("src.Ticked", { seq: 1 }, { headers: { "x-custom": "kept" } });
    await source.publish(sent);
    await waitFor(async () => (await store.list("sink.flaky")).length > 0, { what: "a dead letter" });

    const [letter, ...rest] = await store.list("sink.flaky");
    expect(rest).toEqual([]);
    expect(letter?.id).toMatch(/^[1-9][0-9]*$/);
    expect(letter).toMatchObject({
      group: "sink.flaky",
      attempts: 2,
      error: { code: "FAILED_PRECONDITION", message: "not yet" },
      event: { id: sent.id, type: "src.Ticked", data: { seq: 1 }, headers: { "x-custom": "kept" } },
    });
    expect(await store.get(letter!.id)).toEqual(letter);
    expect(await store.list()).toEqual([letter]);
    expect(await store.list("sink.audit")).toEqual([]);
    expect(await store.counts(["sink.flaky", "sink.audit"])).toEqual({ "sink.flaky": 1, "sink.audit": 0 });

    failing = false;
    // Two retries of one letter at once: one succeeds, the other finds the letter gone.
    const results = await Promise.allSettled([store.retry(letter!.id), store.retry(letter!.id)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failed = results.find((r) => r.status === "rejected");
    expect((failed as PromiseRejectedResult).reason).toMatchObject({ code: "NOT_FOUND" });

    // Both groups drained (nothing pending or unacknowledged): no second copy can arrive any more.
    await waitFor(
      async () => {
        const lag = await sink.lag();
        return flaky.length > 0 && lag["sink.flaky"] === 0 && lag["sink.audit"] === 0;
      },
      { what: "the retried event, and both groups drained" },
    );
    expect(flaky.map((e) => e.id)).toEqual([sent.id]); // once: the second retry was deduplicated
    expect(flaky[0]?.headers).toEqual({
      "x-custom": "kept",
      "flotilla-retry-group": "sink.flaky",
    });
    expect(audit).toEqual([sent.id]); // the other group handled the original only
    expect(await store.list()).toEqual([]);
    expect(await store.counts(["sink.flaky"])).toEqual({ "sink.flaky": 0 });
    expect(await store.get(letter!.id)).toBeUndefined();
    expect(await rejectionOf(() => store.retry(letter!.id))).toMatchObject({ code: "NOT_FOUND" });
    expect(await rejectionOf(() => store.drop(letter!.id))).toMatchObject({ code: "NOT_FOUND" });

    // The retry copy went to the event's own subject with its own Nats-Msg-Id, acknowledged by both groups.
    const jsm = await jetstreamManager(source.connection!);
    const copy = await jsm.streams.getMessage("FLOTILLA_EVT_SRC", { seq: 2 });
    expect(copy?.subject).toBe("flotilla.evt.src.Ticked");
    expect(copy?.header.get("Nats-Msg-Id")).toBe(`${sent.id}:retry:${letter!.id}`);
    expect(copy?.header.get("flotilla-retry-group")).toBe("sink.flaky");
    for (const name of ["sink_flaky", "sink_audit"]) {
      const info = await jsm.consumers.info("FLOTILLA_EVT_SRC", name);
      expect(info.num_pending + info.num_ack_pending).toBe(0);
    }
  });

  it("drops a letter for good", async () => {
    const sink = await net.connect();
    await sink.subscribe({ ...subscribeDefaults, types: ["src.Ticked"], group: "sink.picky" }, async () => {
      throw new FlotillaError("INVALID_ARGUMENT", "never"); // poison: dead-lettered at once
    });
    const source = await net.connect();
    const store = source.deadLetterStore;
    await source.publish(event("src.Ticked", { seq: 1 }));
    await source.publish(event("src.Ticked", { seq: 2 }));
    await waitFor(async () => (await store.list()).length === 2, { what: "two dead letters" });
    const [first, second] = await store.list("sink.picky");
    expect(first?.event.data).toEqual({ seq: 1 }); // oldest first
    expect(first?.attempts).toBe(1);
    await store.drop(first!.id);
    expect(await store.get(first!.id)).toBeUndefined();
    expect(await store.list()).toEqual([second]);
    expect(await rejectionOf(() => store.drop(first!.id))).toMatchObject({ code: "NOT_FOUND", status: "NOT_FOUND" });
  });

  it("refuses ids that are not letter ids, and answers for absent ones", async () => {
    const store = (await net.connect()).deadLetterStore;
    // Before any letter was written (the stream may not exist yet):
    expect(await store.get("1")).toBeUndefined();
    expect(await rejectionOf(() => store.drop("1"))).toMatchObject({ code: "NOT_FOUND" });
    expect(await rejectionOf(() => store.retry("1"))).toMatchObject({ code: "NOT_FOUND" });
    expect(await store.list()).toEqual([]);
    for (const id of ["", "abc", "0", "-1", "1.5", " 1", "1e3", "99999999999999999999"]) {
      expect(await rejectionOf(() => store.get(id))).toMatchObject({ code: "INVALID_ARGUMENT" });
      expect(await rejectionOf(() => store.retry(id))).toMatchObject({ code: "INVALID_ARGUMENT" });
      expect(await rejectionOf(() => store.drop(id))).toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect(await store.list()).toEqual([]); // the stream exists now
    expect(await store.get("999")).toBeUndefined();
    expect(await rejectionOf(() => store.drop("999"))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses to retry a letter whose event data was dropped to fit", async () => {
    const sink = await net.connect();
    await sink.subscribe({ ...subscribeDefaults, types: ["src.Big"], group: "sink.big" }, async () => {
      throw new FlotillaError("INVALID_ARGUMENT", "too big to like");
    });
    const source = await net.connect();
    const store = source.deadLetterStore;
    // The event fits a message; the letter (event, error, group…) does not.
    await source.publish(event("src.Big", { blob: "x".repeat(1024 * 1024 - 600) }));
    await waitFor(async () => (await store.list()).length > 0, { what: "a dead letter" });
    const [letter] = await store.list();
    expect([letter?.truncated, letter?.event.type, letter?.event.data]).toEqual([true, "src.Big", null]);
    const err = await rejectionOf(() => store.retry(letter!.id));
    expect(err).toMatchObject({
      code: "FLOTILLA_DEAD_LETTER_NOT_RETRYABLE",
      status: "FAILED_PRECONDITION",
      details: { id: letter!.id, reason: "truncated" },
    });
    expect(await store.get(letter!.id)).toEqual(letter); // still there, for an operator to drop
  });

  it("refuses to retry a message that was never an event, or whose group has no consumer left", async () => {
    const sink = await net.connect();
    const sub = await sink.subscribe({ ...subscribeDefaults, types: ["src.Ticked"], group: "sink.gone" }, async () => {
      throw new FlotillaError("INVALID_ARGUMENT", "no");
    });
    const source = await net.connect();
    const store = source.deadLetterStore;
    const jsm = await jetstreamManager(source.connection!);
    await source.publish(event("src.Ticked", { seq: 1 }));
    await jsm.jetstream().publish("flotilla.evt.src.Ticked", "not json");
    await waitFor(async () => (await store.list()).length === 2, { what: "two dead letters" });
    const [valid, junk] = await store.list();
    expect(await rejectionOf(() => store.retry(junk!.id))).toMatchObject({
      code: "FLOTILLA_DEAD_LETTER_NOT_RETRYABLE",
      details: { reason: "not-an-event" },
    });
    await sub.close();
    await jsm.consumers.delete("FLOTILLA_EVT_SRC", "sink_gone");
    expect(await rejectionOf(() => store.retry(valid!.id))).toMatchObject({
      code: "FLOTILLA_DEAD_LETTER_NOT_RETRYABLE",
      details: { reason: "no-consumer", group: "sink.gone" },
    });
    expect(await store.list()).toHaveLength(2);
  });
});
