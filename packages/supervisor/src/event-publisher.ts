/**
 * @module Publishes the supervisor's events on NATS (subject `flotilla.supervisor.events`, JSON
 * `{ type, ...event }`), so tools that watch the system see scale decisions and instance changes.
 * Best effort: a broker outage drops events (they are still logged and streamed on /events).
 */
import type { Logger } from "@flotilla/core";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { EVENTS_SUBJECT, type EventHub } from "./events.js";

/** A NATS connection publishing every event of a hub until closed. */
export class EventPublisher {
  private constructor(
    private readonly connection: NatsConnection,
    private readonly unsubscribe: () => void,
  ) {}

  /** Connects to `natsUrl` and publishes every event `hub` emits from now on. */
  static async connect(natsUrl: string, hub: EventHub, log: Logger): Promise<EventPublisher> {
    const connection = await connect({ servers: natsUrl, name: "flotilla-supervisor", maxReconnectAttempts: -1 });
    const unsubscribe = hub.onAny((type, event) => {
      try {
        connection.publish(EVENTS_SUBJECT, JSON.stringify({ type, ...(event as object) }));
      } catch (err) {
        log.debug({ err }, "could not publish a supervisor event");
      }
    });
    return new EventPublisher(connection, unsubscribe);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.connection.drain().catch(() => this.connection.close());
  }
}
