import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventEnvelope } from "../../src/transport/envelope.js";
import { Headers } from "../../src/transport/envelope.js";
import { MemoryTransport } from "../../src/transport/memory-transport.js";
import type { EventHandler, SubscribeOptions } from "../../src/transport/transport.js";

function tick(type = "src.Ticked", headers: Record<string, string> = {}): EventEnvelope {
  const id = randomUUID();
  return { id, type, source: "src", version: 1, time: new Date().toISOString(), headers, data: { id } };
}

function options(group: string | undefined, extra: Partial<SubscribeOptions> = {}): SubscribeOptions {
  return {
    types: ["src.Ticked"],
    ...(group === undefined ? {} : { group }),
    instance: "i1",
    maxInFlight: 1,
    maxDeliveries: 1,
    backoffMs: () => 1,
    ...extra,
  };
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await check()); i++) await new Promise((r) => setTimeout(r, 2));
  expect(await check()).toBe(true);
}

describe("MemoryTransport without a journal", () => {
  let transport: MemoryTransport;
  beforeEach(async () => {
    transport = new MemoryTransport();
    await transport.connect();
  });
  afterEach(() => transport.close());

  it("keeps dead letters in its store: list by group, get, drop, NOT_FOUND for an unknown id", async () => {
    await transport.subscribe(options("a.fails"), async () => {
      throw new Error("nope");
    });
    const event = tick();
    await transport.publish(event);
    await until(async () => (await transport.deadLetterStore.list()).length === 1);
    const [letter] = await transport.deadLetterStore.list("a.fails");
    expect(letter).toMatchObject({
      group: "a.fails",
      attempts: 1,
      event: { id: event.id },
      error: { message: "nope" },
    });
    expect(await transport.deadLetterStore.list("other")).toEqual([]);
    expect(await transport.deadLetterStore.get(letter?.id as string)).toEqual(letter);
    await transport.deadLetterStore.drop(letter?.id as string);
    expect(await transport.deadLetterStore.list()).toEqual([]);
    expect(await transport.deadLetterStore.get("42")).toBeUndefined();
    await expect(transport.deadLetterStore.drop("42")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(transport.deadLetterStore.retry("42")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("retries a dead letter to its group only, marked with the retry header, then forgets it", async () => {
    let failing = true;
    const seenByA: EventEnvelope[] = [];
    const seenByB: EventEnvelope[] = [];
    await transport.subscribe(options("a.flaky"), async (e) => {
      if (failing) throw new Error("down");
      seenByA.push(e);
    });
    await transport.subscribe(options("b.fine"), async (e) => {
      seenByB.push(e);
    });
    const event = tick();
    await transport.publish(event);
    await until(async () => (await transport.deadLetterStore.list("a.flaky")).length === 1 && seenByB.length === 1);
    failing = false;
    const [letter] = await transport.deadLetterStore.list();
    await transport.deadLetterStore.retry(letter?.id as string);
    await until(() => seenByA.length === 1);
    expect(seenByA[0]).toMatchObject({ id: event.id, headers: { [Headers.retryGroup]: "a.flaky" } });
    expect(seenByB).toHaveLength(1);
    expect(await transport.deadLetterStore.list()).toEqual([]);
  });

  it("refuses to retry a broadcast subscriber's letter once it is gone", async () => {
    const sub = await transport.subscribe(options(undefined), async () => {
      throw new Error("nope");
    });
    await transport.publish(tick());
    await until(async () => (await transport.deadLetterStore.list()).length === 1);
    await sub.close();
    const [letter] = await transport.deadLetterStore.list();
    await expect(transport.deadLetterStore.retry(letter?.id as string)).rejects.toMatchObject({
      code: "FLOTILLA_DEAD_LETTER_NOT_RETRYABLE",
    });
    expect(await transport.deadLetterStore.list()).toHaveLength(1);
  });

  it("reports lag per durable group, counting events kept while no member runs", async () => {
    const handled: string[] = [];
    const handler: EventHandler = async (e) => {
      handled.push(e.id);
    };
    const sub = await transport.subscribe(options("a.lagging"), handler);
    await transport.subscribe(options(undefined), handler);
    await sub.close();
    for (let i = 0; i < 3; i++) await transport.publish(tick());
    expect(await transport.lag()).toEqual({ "a.lagging": 3 });
    await transport.subscribe(options("a.lagging"), handler);
    await until(() => handled.length === 6);
    expect(await transport.lag()).toEqual({ "a.lagging": 0 });
  });

  it("retains no history", () => {
    expect(transport.history).toBeUndefined();
  });
});
