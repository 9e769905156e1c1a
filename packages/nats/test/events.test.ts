import { type EventEnvelope, FlotillaError } from "@flotilla/core";
import { sleep, waitFor } from "@flotilla/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rawHeaderAccess } from "../src/headers.js";
import { event, type Network, network, subscribeDefaults } from "./helpers.js";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("nats transport: JetStream events", () => {
  let net: Network;
  beforeEach(async () => {
    net = await network();
  });
  afterEach(() => net.close());

  it("gives a consumer slower than the publisher every event exactly once", async () => {
    const sink = await net.connect();
    const seen: number[] = [];
    await sink.subscribe(
      { ...subscribeDefaults, types: ["src.Ticked"], group: "sink.slow", maxInFlight: 2 },
      async (e) => {
        await sleep(10);
        seen.push((e.data as { seq: number }).seq);
      },
    );
    const source = await net.connect();
    await Promise.all(Array.from({ length: 150 }, (_, seq) => source.publish(event("src.Ticked", { seq }))));
    // Drained: nothing stored but unacknowledged (a handler pushes before its ack), so nothing more can come.
    await waitFor(async () => seen.length >= 150 && (await sink.lag())["sink.slow"] === 0, {
      what: "150 events, all acknowledged",
      timeoutMs: 15_000,
    });
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });

  it("keeps a handler that outlives ack_wait from being redelivered", async () => {
    const sink = await net.connect({ ackWaitMs: 1_000 });
    const attempts: number[] = [];
    let finished = 0;
    await sink.subscribe({ ...subscribeDefaults, types: ["src.Ticked"], group: "sink.long" }, async (_e, delivery) => {
      attempts.push(delivery.attempt);
      await sleep(2_500);
      finished++;
    });
    const source = await net.connect();
    await source.publish(event("src.Ticked", { seq: 1 }));
    // A redelivery would have started while the first attempt ran (ack_wait is 1 s); once that attempt
    // finished and the consumer drained (acknowledged), none can come any more.
    await waitFor(async () => finished > 0 && (await sink.lag())["sink.long"] === 0, {
      what: "the first attempt to finish and be acknowledged",
    });
    expect(attempts).toEqual([1]);
  });

  it("dead-letters with the error, the attempts and the event, and terminates the message", async () => {
    const sink = await net.connect();
    let calls = 0;
    const group = "sink.refuses";
    await sink.subscribe({ ...subscribeDefaults, types: ["src.Ticked"], group, maxDeliveries: 2 }, async () => {
      calls++;
      throw new FlotillaError("FAILED_PRECONDITION", "not today", { details: { why: "test" } });
    });
    const source = await net.connect();
    const sent = event("src.Ticked", { seq: 7 }, { headers: { "x-custom": "kept" } });
    await source.publish(sent);
    // Terminated: once the consumer holds nothing (no pending, no unacknowledged message), no call can follow.
    await waitFor(
      async () => (await source.deadLetterStore.list(group)).length > 0 && (await sink.lag())[group] === 0,
      { what: "a dead letter, and the message terminated" },
    );
    expect(calls).toBe(2);
    const [letter, ...rest] = await source.deadLetterStore.list(group);
    expect(rest).toHaveLength(0);
    expect(letter).toMatchObject({
      group,
      attempts: 2,
      error: { code: "FAILED_PRECONDITION", message: "not today", details: { why: "test" }, retryable: false },
      event: { id: sent.id, type: "src.Ticked", source: "src", version: 1, data: { seq: 7 } },
    });
    expect(letter?.event.headers).toEqual({ "x-custom": "kept" });
    expect(Number.isNaN(Date.parse(letter?.failedAt ?? ""))).toBe(false);
    expect(await source.deadLetterStore.list("sink.other")).toEqual([]);
    expect((await source.deadLetterStore.list()).map((l) => l.group)).toEqual([group]);

    const jsm = await jetstreamManager(source.connection!);
    const stored = await jsm.streams.getMessage("FLOTILLA_DLQ", { seq: 1 });
    expect(stored?.subject).toBe("flotilla.dlq.sink.refuses");
    expect(stored?.header.get("flotilla-dlq-attempts")).toBe("2");
    expect(stored?.header.get("flotilla-error")).toBe("FAILED_PRECONDITION");
    const consumer = await jsm.consumers.info("FLOTILLA_EVT_SRC", "sink_refuses");
    expect(consumer.num_ack_pending + consumer.num_pending).toBe(0);
  });

  it("dead-letters a message that is not an event at once", async () => {
    const sink = await net.connect();
    let calls = 0;
    await sink.subscribe({ ...subscribeDefaults, types: ["src.Ticked"], group: "sink.strict" }, async () => {
      calls++;
    });
    const source = await net.connect();
    await source.publish(event("src.Ticked", { seq: 1 })); // creates the stream
    await waitFor(() => calls === 1, { what: "the valid event" });
    const jsm = await jetstreamManager(source.connection!);
    await jsm.jetstream().publish("flotilla.evt.src.Ticked", "not json");
    await waitFor(async () => (await source.deadLetterStore.list("sink.strict")).length > 0, { what: "a dead letter" });
    const [letter] = await source.deadLetterStore.list("sink.strict");
    expect(letter).toMatchObject({
      attempts: 1,
      error: { code: "FLOTILLA_BAD_ENVELOPE" },
      event: { type: "src.Ticked" },
    });
    expect(calls).toBe(1);
  });

  it("sends only the headers that cannot be derived, and decodes events with every CloudEvents attribute the same", async () => {
    const sink = await net.connect();
    const seen: EventEnvelope[] = [];
    await sink.subscribe({ ...subscribeDefaults, types: ["src.Ticked"], group: "sink.wire" }, async (e) => {
      seen.push(e);
    });
    const source = await net.connect();
    const compact = event("src.Ticked", { seq: 1 }, { headers: { traceparent: TRACEPARENT } });
    const unusual = event("src.Ticked", { seq: 2 }, { source: "elsewhere", version: 3, headers: {} });
    await source.publish(compact);
    await source.publish(unusual);
    const jsm = await jetstreamManager(source.connection!);
    const stored = await jsm.streams.getMessage("FLOTILLA_EVT_SRC", { seq: 1 });
    expect(stored!.header.keys().sort()).toEqual(["Nats-Msg-Id", "ce-time", "traceparent"]);
    expect(stored!.header.get("Nats-Msg-Id")).toBe(compact.id);
    const second = await jsm.streams.getMessage("FLOTILLA_EVT_SRC", { seq: 2 });
    expect(second!.header.get("ce-source")).toBe("elsewhere");
    expect(second!.header.get("ce-dataversion")).toBe("3");

    // As events were written before: every attribute in a ce- header, and a content type.
    const full = event("src.Ticked", { seq: 3 }, { version: 2, headers: { "x-custom": "kept" } });
    const h = natsHeaders();
    for (const [name, value] of Object.entries({
      "ce-specversion": "1.0",
      "ce-id": full.id,
      "ce-type": full.type,
      "ce-source": full.source,
      "ce-time": full.time,
      "ce-dataversion": "2",
      "content-type": "application/json",
      "x-custom": "kept",
    })) {
      h.set(name, value);
    }
    await jsm.jetstream().publish("flotilla.evt.src.Ticked", JSON.stringify(full.data), { headers: h, msgID: full.id });
    await waitFor(() => seen.length >= 3, { what: "three events" });
    expect(seen[0]).toEqual(compact);
    expect(seen[1]).toEqual(unusual);
    expect(seen[2]).toEqual(full);
    expect(rawHeaderAccess).toBe(true); // headers were parsed from nats.js's raw message, not decoded by it
  });

  it("drops a republished event id (Nats-Msg-Id) and lets broadcast see only later events", async () => {
    const source = await net.connect();
    const early = event("src.Ticked", { seq: 0 });
    await source.publish(early);
    const group: number[] = [];
    const broadcast: number[] = [];
    const sink = await net.connect();
    await sink.subscribe({ ...subscribeDefaults, types: ["src.Ticked"], group: "sink.dedupe" }, async (e) => {
      group.push((e.data as { seq: number }).seq);
    });
    await sink.subscribe({ ...subscribeDefaults, types: ["src.Ticked"] }, async (e) => {
      broadcast.push((e.data as { seq: number }).seq);
    });
    const once = event("src.Ticked", { seq: 1 });
    await source.publish(once);
    await source.publish(once);
    await source.publish(event("src.Ticked", { seq: 2 }));
    // A later event: a second copy of `once` would have been stored, and delivered, before it.
    await source.publish(event("src.Ticked", { seq: 3 }));
    await waitFor(() => group.includes(3) && broadcast.includes(3), { what: "the later event in both" });
    expect(group).toEqual([1, 2, 3]);
    expect(broadcast).toEqual([1, 2, 3]);
  });
});
