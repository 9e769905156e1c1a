/** @module Per-service resources (a database, later caches): declared by services, opened by providers. */
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Middleware } from "./middleware.js";
import type { OutboundSink } from "./outbound-sink.js";

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
   * The transport, as a sink past every middleware: where a resource that stores outbound messages
   * (an outbox) hands them over once committed. Resolves once the transport accepted one durably.
   */
  readonly transport: OutboundSink;
  /** Opens spans for the resource's work (a database transaction), as children of the active span; none when absent. */
  readonly tracer?: Tracer;
}

export interface ResourceHandle {
  readonly value: unknown;
  /**
   * Where the owning service's outbound messages go instead of the transport (e.g. an outbox in the
   * service's database, so an event leaves only if the transaction that emitted it commits).
   */
  readonly sink?: OutboundSink;
  /** Middleware that applies to the owning service only (e.g. a transaction around each handler). */
  readonly middleware?: readonly Middleware[];
  close(): Promise<void>;
}

/** Opens resources of one kind; the host is given providers and passes them each service's spec. */
export interface ResourceProvider {
  readonly kind: string;
  open(spec: ResourceSpec, owner: ResourceOwner): Promise<ResourceHandle>;
}
