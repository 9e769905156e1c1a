/** @module The outbox relays a database provider has open, for metrics (backlog per service instance). */
import type { ResourceOwner } from "@flotilla/core";
import type { OutboxBacklog, OutboxRelay } from "./outbox-relay.js";

export interface ServiceOutboxBacklog extends OutboxBacklog {
  readonly service: string;
  readonly instance: string;
}

/** Belongs to one provider, so two apps in one process never see each other's relays. */
export class OpenRelays {
  private readonly open = new Map<OutboxRelay, ResourceOwner>();

  /** Tracks a relay until the returned function is called. */
  add(owner: ResourceOwner, relay: OutboxRelay): () => void {
    this.open.set(relay, owner);
    return () => this.open.delete(relay);
  }

  /** Each open service database's outbox backlog: committed messages the broker has not confirmed yet. */
  async backlogs(): Promise<ServiceOutboxBacklog[]> {
    const entries = [...this.open.entries()];
    const backlogs = await Promise.all(
      entries.map(([relay]) => relay.backlog().catch(() => ({ events: Number.NaN, oldestAgeMs: Number.NaN }))),
    );
    return entries.map(([, owner], i) => ({
      service: owner.service,
      instance: owner.instance,
      ...(backlogs[i] as OutboxBacklog),
    }));
  }
}
