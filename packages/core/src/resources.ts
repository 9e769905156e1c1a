/** @module Per-service resources (a database, later caches): declared by services, opened by providers. */
import type { Logger } from "pino";
import type { Middleware } from "./middleware.js";
import type { EventEnvelope } from "./transport/envelope.js";

/** What a service declares; `T` is the type handlers see (e.g. `Kysely<Schema>`). */
export interface ResourceSpec<T = unknown> {
  readonly kind: string;
  /** Type carrier only; never set at run time. */
  readonly __type?: T;
}

export interface ResourceOwner {
  readonly service: string;
  readonly instance: string;
  readonly log: Logger;
  /**
   * Puts an event on the transport as it is, past every middleware: how a resource that stores emitted
   * events (an outbox) hands them over once committed. Resolves once the transport accepted it durably.
   */
  publish(event: EventEnvelope): Promise<void>;
}

export interface ResourceHandle {
  readonly value: unknown;
  /** Middleware that applies to the owning service only (e.g. a transaction around each handler). */
  readonly middleware?: readonly Middleware[];
  close(): Promise<void>;
}

/** Opens resources of one kind; the host is given providers and passes them each service's spec. */
export interface ResourceProvider {
  readonly kind: string;
  open(spec: ResourceSpec, owner: ResourceOwner): Promise<ResourceHandle>;
}
