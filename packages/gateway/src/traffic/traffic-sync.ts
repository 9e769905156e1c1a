/**
 * @module Traffic changes between gateways: each change is published as a control event over the app's
 * transport; every gateway applies the ones it receives, and one that starts later replays the history.
 */
import { randomUUID } from "node:crypto";
import type { EventEnvelope, Host, Subscription } from "@flotilla/core";
import type { TrafficChange, TrafficState } from "./traffic-state.js";

/** The control event's type: in the `gateway` service's stream (`FLOTILLA_EVT_GATEWAY` over NATS). */
export const TRAFFIC_CHANGED = "gateway.TrafficChanged";

export class TrafficSync {
  private subscription: Subscription | undefined;

  constructor(
    private readonly host: Host,
    private readonly state: TrafficState,
    private readonly log: Host["log"],
  ) {}

  /**
   * Subscribes first, then reads the history (where the transport keeps one), so no change falls
   * between the two; applying is idempotent and keeps the newest, so one seen twice does no harm.
   */
  async start(): Promise<void> {
    if (this.subscription !== undefined) return;
    // Broadcast (no group): every gateway instance applies every change.
    this.subscription = await this.host.transport.subscribe(
      {
        types: [TRAFFIC_CHANGED],
        instance: `gateway-traffic-${this.host.id}`,
        maxInFlight: 1,
        maxDeliveries: 1,
        backoffMs: () => 0,
      },
      async (event) => {
        this.receive(event);
      },
    );
    const history = await this.host.transport.history?.([TRAFFIC_CHANGED]);
    if (history === undefined) return;
    let applied = 0;
    for await (const event of history) if (this.receive(event)) applied++;
    if (applied > 0) this.log.info({ applied }, "traffic: rules taken from earlier changes");
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  /** Publishes a change this gateway made; resolves once the transport accepted it. */
  async publish(change: TrafficChange): Promise<void> {
    const event: EventEnvelope = {
      id: randomUUID(),
      type: TRAFFIC_CHANGED,
      source: "gateway",
      version: 1,
      time: change.changedAt,
      headers: {},
      data: change,
    };
    await this.host.transport.publish(event);
  }

  private receive(event: EventEnvelope): boolean {
    const change = event.data as TrafficChange;
    if (typeof change !== "object" || change === null || typeof change.split !== "string") return false;
    if (typeof change.version !== "number" || typeof change.gateway !== "string") return false;
    const applied = this.state.apply(change);
    if (applied) this.log.info({ split: change.split, version: change.version }, "traffic: rules changed");
    return applied;
  }
}
