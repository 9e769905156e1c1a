/** @module The transport interface: request/reply and events between service instances. */
import type { Delivery, EventEnvelope, EventPosition, RequestEnvelope } from "./envelope.js";

export interface RequestOptions {
  /** Time the caller waits for the reply. */
  timeoutMs: number;
}

/**
 * Handles a request: the reply payload, or a promise of it; failures throw or reject (with a
 * FlotillaError ideally). A reply returned at once spares an in-process transport a promise hop.
 * Transports call it only with time left: one that queues or receives a request past its deadline
 * answers DEADLINE_EXCEEDED itself.
 */
export type RequestHandler = (req: RequestEnvelope) => unknown;

/** Handles an event; resolving acknowledges it, throwing asks for a redelivery. */
export type EventHandler = (event: EventEnvelope, delivery: Delivery) => Promise<void>;

export interface ServeOptions {
  /** Name of the service (its queue group). */
  service: string;
  /** This instance's id (its own address for client-side balancing). */
  instance: string;
  /** Requests handled at once by this instance; more wait in its queue. */
  maxInFlight: number;
  /** Requests allowed to wait; beyond that the transport answers FLOTILLA_OVERLOADED. */
  maxQueued: number;
  /** The service contract's version, for discovery protocols (e.g. NATS's `$SRV.INFO`). */
  version?: string;
  /** The actions (`service.action`) served, for discovery protocols. */
  actions?: readonly string[];
}

export interface SubscribeOptions {
  /** Event types this subscription receives. */
  types: readonly string[];
  /**
   * Durable consumer group, e.g. `orders.recordPlacement`: each event goes to one member of the
   * group. Absent for broadcast: every subscriber sees every event while it is subscribed.
   */
  group?: string;
  /** This instance's id. */
  instance: string;
  /** Events handled at once by this member. */
  maxInFlight: number;
  /** Deliveries before an event is dead-lettered. */
  maxDeliveries: number;
  /** Delay before the n-th redelivery (n starts at 1). */
  backoffMs(attempt: number): number;
}

export interface Subscription {
  /** Stops new deliveries and resolves when this member's in-flight work has finished. */
  close(): Promise<void>;
}

export interface DeadLetter {
  readonly event: EventEnvelope;
  readonly group: string;
  readonly attempts: number;
  readonly error: unknown;
  readonly failedAt: string;
}

/** A dead letter as an operator sees it; `id` names it for `get`, `retry` and `drop`. */
export interface StoredDeadLetter extends DeadLetter {
  readonly id: string;
}

/** Where events that exhausted their deliveries wait for an operator (`flotilla dlq`). */
export interface DeadLetterStore {
  /** Oldest first; only one group's when `group` is given. */
  list(group?: string): Promise<StoredDeadLetter[]>;
  /** How many letters each of these groups has, without reading them (for metrics); absent: count `list()`. */
  counts?(groups: readonly string[]): Promise<Record<string, number>>;
  get(id: string): Promise<StoredDeadLetter | undefined>;
  /**
   * Delivers the event again, to its group only (it carries `Headers.retryGroup`; other groups skip
   * it), then removes the letter. NOT_FOUND if there is no such letter.
   */
  retry(id: string): Promise<void>;
  /** Removes the letter for good. NOT_FOUND if there is no such letter. */
  drop(id: string): Promise<void>;
}

/** A retained event and where it sits in the history. */
export interface PositionedEvent {
  readonly event: EventEnvelope;
  readonly position: EventPosition;
}

/** The retained events of some types, oldest first, for rebuilding read models. */
export interface EventHistory extends AsyncIterable<EventEnvelope> {
  /** How many events the iteration yields at most: the retained ones when it was opened (for progress). */
  readonly total: number;
}

export interface Transport {
  /** `memory`, `nats`, …, for logs and metrics. */
  readonly name: string;
  connect(): Promise<void>;
  /** Closes the connection; pending requests fail with UNAVAILABLE. */
  close(): Promise<void>;

  request(req: RequestEnvelope, opts: RequestOptions): Promise<unknown>;
  serve(opts: ServeOptions, handler: RequestHandler): Promise<Subscription>;
  /** Whether at least one instance of the service answers requests right now. */
  isAvailable(service: string): Promise<boolean>;

  /** Resolves once the transport has durably accepted the event. */
  publish(event: EventEnvelope): Promise<void>;
  subscribe(opts: SubscribeOptions, handler: EventHandler): Promise<Subscription>;

  /** The dead-letter store; absent when the transport keeps dead letters nowhere an operator can reach. */
  readonly deadLetterStore?: DeadLetterStore;
  /**
   * The retained events of these types, oldest first, up to the newest when called (events published
   * later are not included). Absent when the transport retains no history.
   */
  history?(types: readonly string[]): Promise<EventHistory>;
  /**
   * The retained events of these types stored at `since` (epoch ms) or later, each with its position,
   * oldest first within each stream, up to the newest when called (later ones are not included); for a
   * reader that needs only the recent past (a gateway filling its live-push replay buffer as it starts).
   * Absent when the transport retains no history.
   */
  recent?(types: readonly string[], since: number): Promise<AsyncIterable<PositionedEvent>>;
  /** Events not yet handled, per durable group this process has members in (consumer lag), for metrics. */
  lag?(): Promise<Record<string, number>>;
}
