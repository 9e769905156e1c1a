/**
 * @module Where a service's outbound messages end up once its middleware is done with them: the
 * transport itself, or a store that sends them later (the outbox of a service with a database).
 */
import { FlotillaCodes, FlotillaError } from "./errors.js";
import { newTraceContext } from "./trace-context.js";
import type { EventEnvelope, HeaderMap, RequestEnvelope } from "./transport/envelope.js";
import { mapReader, readMetaHeaders } from "./transport/metadata.js";
import type { Transport } from "./transport/transport.js";

/**
 * A request sent on behalf of an orchestrator (a saga), whose outcome is handed back to it as a
 * message rather than awaited by a handler: it can be stored, sent after a crash, and sent again.
 */
export interface CommandEnvelope {
  /** Unique per command: the outbox key (a saga step's attempt). */
  readonly id: string;
  /** The target service and action (`service.action`). */
  readonly service: string;
  readonly action: string;
  readonly payload: unknown;
  /**
   * Trace context and correlation id. Never a caller's proof: a command may be sent long after the
   * proof expired, so it acts on the sending service's authority with the business data it carries.
   */
  readonly headers: HeaderMap;
  /** How long the request may take before its outcome is a DEADLINE_EXCEEDED failure. */
  readonly timeoutMs: number;
  /** The orchestrator of the sending service that takes the outcome. */
  readonly replyTo: string;
  /** Opaque to the runtime: given back with the outcome (a saga's position when it sent this). */
  readonly tag: unknown;
}

/**
 * A message that leaves a service one way, with no reply awaited in the call: an event, or an
 * orchestrator's command (its outcome comes back later, to the orchestrator). Every kind must be
 * storable as JSON, so an outbox can keep it until its transaction commits.
 */
export type OutboundMessage =
  | { readonly kind: "event"; readonly envelope: EventEnvelope }
  | {
      readonly kind: "command";
      readonly envelope: CommandEnvelope;
      /** Epoch ms before which it is not sent (a retry's backoff); absent: at once. */
      readonly notBefore?: number;
    };

/** What came of a command: the action's output, or its failure with the stable code it carried. */
export type CommandOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: FlotillaError };

/** Takes a command's outcome; resolves once it is recorded (then the command counts as sent). */
export type CommandSettler = (command: CommandEnvelope, outcome: CommandOutcome) => Promise<void>;

export interface OutboundSink {
  /** `transport`, `outbox`, …, for logs. */
  readonly name: string;
  /**
   * Takes the message. Resolves once it is durable: accepted by the transport (a command: its
   * outcome recorded), or written to a store in the caller's transaction (then it leaves only if that
   * transaction commits).
   */
  send(message: OutboundMessage): Promise<void>;
}

/**
 * The sink of a service without a database: straight to the transport. A command is sent as a request
 * and its outcome handed to `settle` (a service without one cannot send commands).
 */
export function transportSink(transport: Transport, settle?: CommandSettler): OutboundSink {
  return {
    name: "transport",
    send(message) {
      if (message.kind === "event") return transport.publish(message.envelope);
      if (settle === undefined) {
        return Promise.reject(FlotillaError.of(FlotillaCodes.CONFIG, "commands need an orchestrator to settle them"));
      }
      return sendCommand(transport, message.envelope).then((outcome) => settle(message.envelope, outcome));
    },
  };
}

/** The command as a request; every failure, the transport's own included, becomes an outcome. */
async function sendCommand(transport: Transport, command: CommandEnvelope): Promise<CommandOutcome> {
  const meta = readMetaHeaders(mapReader(command.headers), Date.now() + command.timeoutMs, newTraceContext);
  const req: RequestEnvelope = {
    service: command.service,
    action: command.action,
    meta: { ...meta, caller: undefined },
    payload: command.payload,
    headers: undefined,
    instance: undefined,
  };
  try {
    return { ok: true, value: await transport.request(req, { timeoutMs: command.timeoutMs }) };
  } catch (err) {
    return { ok: false, error: FlotillaError.from(err) };
  }
}
