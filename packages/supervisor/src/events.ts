/** @module What the supervisor reports as it runs: instance changes and scale decisions (SSE, NATS, logs). */
import type { ScaleDecision } from "./autoscale/index.js";

/** Something that happened to an instance (or a companion), with why. */
export interface InstanceEvent {
  readonly unit: string;
  readonly instance: string;
  readonly pid: number;
  readonly change: "started" | "ready" | "stopped" | "crashed" | "crash-loop" | "failed-to-start";
  readonly reason: string;
  readonly at: number;
}

/** The events a supervisor emits, by name. */
export interface SupervisorEvents {
  decision: ScaleDecision;
  instance: InstanceEvent;
}

/** NATS subject the supervisor publishes its events on (JSON `{ type, ...event }`); docs/protocol.md. */
export const EVENTS_SUBJECT = "flotilla.supervisor.events";

/** A tiny typed emitter: `on` returns its own unsubscribe. */
export class EventHub {
  private readonly listeners = new Set<(type: keyof SupervisorEvents, event: unknown) => void>();

  on<K extends keyof SupervisorEvents>(type: K, listener: (event: SupervisorEvents[K]) => void): () => void {
    return this.onAny((t, event) => {
      if (t === type) listener(event as SupervisorEvents[K]);
    });
  }

  /** Every event, with its type. */
  onAny(listener: (type: keyof SupervisorEvents, event: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<K extends keyof SupervisorEvents>(type: K, event: SupervisorEvents[K]): void {
    for (const listener of this.listeners) listener(type, event);
  }
}
