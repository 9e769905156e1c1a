/**
 * @module Where a service's outbound messages end up once its middleware is done with them: the
 * transport itself, or a store that publishes them later (the outbox of a service with a database).
 */
import type { EventEnvelope } from "./transport/envelope.js";
import type { Transport } from "./transport/transport.js";

/**
 * A message that leaves a service one way, with no reply awaited in the call: an event now; a saga's
 * commands (requests whose replies arrive later, as messages) join this union as another `kind`.
 * Every kind must be storable as JSON, so an outbox can keep it until its transaction commits.
 */
export type OutboundMessage = { readonly kind: "event"; readonly envelope: EventEnvelope };

export interface OutboundSink {
  /** `transport`, `outbox`, …, for logs. */
  readonly name: string;
  /**
   * Takes the message. Resolves once it is durable: accepted by the transport, or written to a store
   * in the caller's transaction (then it leaves only if that transaction commits).
   */
  send(message: OutboundMessage): Promise<void>;
}

/** The sink of a service without a database: straight to the transport. */
export function transportSink(transport: Transport): OutboundSink {
  return {
    name: "transport",
    send(message) {
      return transport.publish(message.envelope);
    },
  };
}
