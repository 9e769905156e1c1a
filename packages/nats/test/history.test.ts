import type { EventEnvelope } from "@flotilla/core";
import { rejectionOf, waitFor } from "@flotilla/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeEvent } from "../src/internal.js";
import { event, type Network, network, subscribeDefaults } from "./helpers.js";

async function collect(events: AsyncIterable<EventEnvelope>): Promise<string[]> {
  const seen: string[] = [];
  for await (const e of events) seen.push(`${e.type}#${(e.data as { n: number }).n}`);
  return seen;
}

describe("nats transport: event history", () => {
  let net: Network;
  beforeEach(async () => {
    net = await network();
  });
  afterEach(() => net.close());

  it("replays the retained events of some types, stream after stream, oldest first within each", async () => {
    const source = await net.connect();
    const order = [
      ["alpha.Created", 1],
      ["beta.Shipped", 2],
      ["alpha.Ignored", 3],
      ["alpha.Updated", 4],
      ["alpha.Created", 5],
      ["beta.Shipped", 6],
      ["alpha.Updated", 7],
    ] as const;
    const sent: EventEnvelope[] = [];
    for (const [type, n] of order) {
      const e = event(type, { n }, { headers: { "x-custom": `h${n}` } });
      sent.push(e);
      await source.publish(e);
    }
    // A dead letter retried for one group repeats event 1: history skips the copy.
    const copy = encodeEvent({ ...sent[0]!, headers: { "flotilla-retry-group": "some.group" } }, 1 << 20);
    const jsm = await jetstreamManager(source.connection!);
    await jsm.jetstream().publish("flotilla.evt.alpha.Created", copy.data, { headers: copy.headers, msgID: "copy" });

    const history = await source.history(["beta.Shipped", "alpha.Created", "alpha.Updated", "alpha.Created"]);
    expect(history.total).toBe(7); // 6 events plus the retry copy: an upper bound
    await source.publish(event("alpha.Created", { n: 8 })); // after the call: not included
    await source.publish(event("beta.Shipped", { n: 9 }));

    const events: EventEnvelope[] = [];
    for await (const e of history) events.push(e);
    expect(events.map((e) => `${e.type}#${(e.data as { n: number }).n}`)).toEqual([
      "beta.Shipped#2",
      "beta.Shipped#6",
      "alpha.Created#1",
      "alpha.Updated#4",
      "alpha.Created#5",
      "alpha.Updated#7",
    ]);
    // Decoded like the live consumer decodes them.
    expect(events[2]).toEqual(sent[0]);
    expect(events[2]?.headers).toEqual({ "x-custom": "h1" });

    // Iterating again replays the same range.
    expect(await collect(history)).toHaveLength(6);
    for (const stream of ["FLOTILLA_EVT_ALPHA", "FLOTILLA_EVT_BETA"]) {
      expect((await jsm.streams.info(stream)).state.consumer_count).toBe(0); // deleted after reading
    }
  });

  it("ends for a type that has no stream, and for types without events", async () => {
    const source = await net.connect();
    await source.publish(event("alpha.Created", { n: 1 }));
    const none = await source.history(["nobody.Emitted", "alpha.Deleted"]);
    expect(none.total).toBe(0);
    expect(await collect(none)).toEqual([]);
    expect(await collect(await source.history([]))).toEqual([]);
    expect(await rejectionOf(() => source.history(["no-dot"]))).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await rejectionOf(() => source.history(["alpha.*"]))).toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("reads more events than one fetch brings, and cleans up when left early", async () => {
    const source = await net.connect();
    const count = 1_300;
    for (let start = 0; start < count; start += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          source.publish(event(i % 2 ? "alpha.Created" : "alpha.Updated", { n: start + i })),
        ),
      );
    }
    const history = await source.history(["alpha.Created", "alpha.Updated"]);
    expect(history.total).toBe(count);
    const seqs: number[] = [];
    for await (const e of history) seqs.push((e.data as { n: number }).n);
    expect(seqs).toHaveLength(count);
    expect(new Set(seqs).size).toBe(count);

    let read = 0;
    for await (const _ of history) if (++read === 10) break;
    const jsm = await jetstreamManager(source.connection!);
    expect((await jsm.streams.info("FLOTILLA_EVT_ALPHA")).state.consumer_count).toBe(0);
  });

  it("reports the lag of each group this process has members in", async () => {
    const sink = await net.connect();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    await sink.subscribe(
      { ...subscribeDefaults, types: ["src.Ticked"], group: "sink.stuck", maxInFlight: 1 },
      async () => {
        started++;
        await gate;
      },
    );
    let fast = 0;
    await sink.subscribe(
      { ...subscribeDefaults, types: ["src.Ticked", "src.Tocked"], group: "sink.fast" },
      async () => {
        fast++;
      },
    );
    await sink.subscribe({ ...subscribeDefaults, types: ["src.Ticked"] }, async () => undefined); // broadcast
    expect(await sink.lag()).toEqual({ "sink.stuck": 0, "sink.fast": 0 });

    const source = await net.connect();
    for (let n = 0; n < 5; n++) await source.publish(event("src.Ticked", { n }));
    await source.publish(event("src.Tocked", { n: 5 }));
    // sink.fast's acknowledgements reach the server after its handler ran: wait for them, not a while.
    await waitFor(async () => started === 1 && fast === 6 && (await sink.lag())["sink.fast"] === 0, {
      what: "the first deliveries, sink.fast's acknowledged",
    });
    expect(await sink.lag()).toEqual({ "sink.stuck": 5, "sink.fast": 0 });
    expect(await source.lag()).toEqual({}); // no members there

    release();
    await waitFor(async () => (await sink.lag())["sink.stuck"] === 0, { what: "the backlog handled" });
  });
});
