/** Live messages over the in-process transport: redacted by the contract, at most 20 a second, the rest counted. */
import { createLogger, defineContract, defineService, event, MemoryTransport, sensitive } from "@flotilla/core";
import { waitFor } from "@flotilla/testing";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { FlotillaApp } from "../src/app.js";
import { declaredEvents } from "../src/dashboard/event-flow-catalog.js";
import { type LiveMessage, liveMessages, MAX_PER_SECOND } from "../src/dashboard/flow-live.js";

const accounts = defineContract({
  service: "accounts",
  actions: {},
  events: { Opened: event({ schema: z.object({ n: z.number(), email: sensitive(z.string()) }) }) },
});
const app = { name: "t", services: [defineService(accounts, { actions: {} })] } as unknown as FlotillaApp;

describe("live messages", () => {
  const transport = new MemoryTransport({ faithful: true });
  afterEach(() => transport.close());

  it("sends each event redacted, at most 20 a second, and counts those left out", async () => {
    await transport.connect();
    const topic = liveMessages(transport, declaredEvents(app), createLogger({ level: "silent" }));
    const got: LiveMessage[] = [];
    const stop = topic.start((m) => got.push(m as LiveMessage));
    const publish = (n: number) =>
      transport.publish({
        id: `e${n}`,
        type: "accounts.Opened",
        source: "accounts",
        version: 1,
        time: new Date().toISOString(),
        headers: {},
        data: { n, email: `user${n}@example.org` },
      });
    // The subscription starts in the background: publish until the first arrives.
    let n = 0;
    await waitFor(
      async () => {
        await publish(n++);
        return got.length > 0;
      },
      { timeoutMs: 5_000, intervalMs: 10 },
    );
    for (let i = 0; i < 60; i++) await publish(n++);
    await new Promise((r) => setTimeout(r, 1_100));
    const sentBurst = got.length;
    await publish(n++);
    await waitFor(() => got.length === sentBurst + 1, { timeoutMs: 5_000 });
    stop();

    const last = got.at(-1) as LiveMessage;
    // Every event published since the first one arrived is either sent or counted: nothing is queued.
    const first = Number(got[0]?.id.slice(1));
    expect(got.length + last.dropped).toBe(n - first);
    expect(last.dropped).toBeGreaterThan(0);
    // The 61 events of the burst span at most a few seconds' windows.
    expect(sentBurst).toBeLessThanOrEqual(3 * MAX_PER_SECOND + 1);
    expect(last).toMatchObject({ type: "accounts.Opened", source: "accounts", data: { email: "[redacted]" } });
    expect(JSON.stringify(got)).not.toContain("example.org");
  });
});
