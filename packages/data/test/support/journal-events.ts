/** @module Events, subscriptions and journaled transports for the event journal's tests and crash worker. */
import { randomUUID } from "node:crypto";
import type { EventEnvelope, SubscribeOptions } from "@flotilla/core";
import { MemoryTransport } from "@flotilla/core";
import { sqliteEventJournal } from "../../src/index.js";

export const TICKED = "src.Ticked";

/** The durable groups of the crash test's worker. */
export const CRASH_GROUPS = ["audit.record", "mail.send"] as const;

export function event(type = TICKED, id: string = randomUUID()): EventEnvelope {
  return { id, type, source: "src", version: 1, time: new Date().toISOString(), headers: {}, data: { id } };
}

/** A durable group's subscription (a broadcast one when `group` is undefined) with quick retries. */
export function member(group: string | undefined, extra: Partial<SubscribeOptions> = {}): SubscribeOptions {
  return {
    types: [TICKED],
    ...(group === undefined ? {} : { group }),
    instance: "i1",
    maxInFlight: 1,
    maxDeliveries: 5,
    backoffMs: () => 1,
    ...extra,
  };
}

/** A connected in-process transport on the journal at `file`: what one process of the app runs. */
export async function journaled(file: string, retentionMs?: number): Promise<MemoryTransport> {
  const transport = new MemoryTransport({
    faithful: true,
    journal: sqliteEventJournal(file),
    ...(retentionMs === undefined ? {} : { retentionMs }),
  });
  await transport.connect();
  return transport;
}
