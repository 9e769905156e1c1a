/** @module The outbox relays open in this process, for metrics (backlog per service instance). */
import type { ResourceOwner } from "@flotilla/core";
import type { OutboxBacklog, OutboxRelay } from "./outbox-relay.js";

const open = new Map<OutboxRelay, ResourceOwner>();

export function trackRelay(owner: ResourceOwner, relay: OutboxRelay): () => void {
  open.set(relay, owner);
  return () => open.delete(relay);
}

export interface ServiceOutboxBacklog extends OutboxBacklog {
  readonly service: string;
  readonly instance: string;
}

/** Each open service database's outbox backlog: committed events the broker has not confirmed yet. */
export async function outboxBacklogs(): Promise<ServiceOutboxBacklog[]> {
  const entries = [...open.entries()];
  const backlogs = await Promise.all(
    entries.map(([relay]) => relay.backlog().catch(() => ({ events: Number.NaN, oldestAgeMs: Number.NaN }))),
  );
  return entries.map(([, owner], i) => ({
    service: owner.service,
    instance: owner.instance,
    ...(backlogs[i] as OutboxBacklog),
  }));
}
