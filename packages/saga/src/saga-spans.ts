/**
 * @module A saga's spans. A saga outlives processes, so no span is kept open across a step: each
 * decision is a short span of its own. `saga <type> <step>` is the decision to send a step's command
 * (the participant's span is its child, through the command's `traceparent`); `saga <type> settle
 * <step>` records the outcome that came back, a child of the step it settles, and parents the next
 * step. Read in a waterfall, the chain shows each step, how long its participant took, and where a
 * failure turned the saga back.
 */
import {
  type CommandEnvelope,
  type CommandOutcome,
  formatTraceparent,
  Headers,
  type OrchestratorRuntime,
  parseTraceparent,
  type TraceContext,
} from "@flotilla/core";
import { parentContext, settle } from "@flotilla/telemetry/internal";
import { type Attributes, SpanKind } from "@opentelemetry/api";
import type { CommandTag } from "./decide.js";
import type { SagaDefinition } from "./define-saga.js";

const SAGA_ID = "flotilla.saga.id";
const SAGA_TYPE = "flotilla.saga.type";
const SAGA_VERSION = "flotilla.saga.version";
const SAGA_STEP = "flotilla.saga.step";
const SAGA_PHASE = "flotilla.saga.phase";
const SAGA_ATTEMPT = "flotilla.saga.attempt";
const SAGA_FINISHED = "flotilla.saga.finished";

type Command = { readonly kind: "command"; readonly envelope: CommandEnvelope; readonly notBefore?: number };

/** What a span of one saga says about it. */
function sagaAttributes(runtime: OrchestratorRuntime, def: SagaDefinition, tag: CommandTag): Attributes {
  const step = def.steps[tag.step];
  return {
    "flotilla.service": runtime.service,
    "flotilla.instance": runtime.instance,
    [SAGA_ID]: tag.saga,
    [SAGA_TYPE]: def.name,
    [SAGA_VERSION]: def.version,
    [SAGA_STEP]: step?.name ?? String(tag.step),
    [SAGA_PHASE]: tag.phase,
    [SAGA_ATTEMPT]: tag.attempt,
  };
}

/**
 * Sends a step's command inside a span of its own, whose context the command carries: the span ends
 * once the command is stored (or sent), not when the participant answers.
 */
export async function sendStep(
  runtime: OrchestratorRuntime,
  def: SagaDefinition,
  parent: TraceContext,
  message: Command,
): Promise<void> {
  const tracer = runtime.tracer;
  if (tracer === undefined) return runtime.send(message);
  const tag = message.envelope.tag as CommandTag;
  const attributes = sagaAttributes(runtime, def, tag);
  attributes["rpc.method"] = message.envelope.action;
  if (message.notBefore !== undefined)
    attributes["flotilla.saga.delay_ms"] = Math.max(0, message.notBefore - Date.now());
  const step = attributes[SAGA_STEP] as string;
  const name = `saga ${def.name} ${tag.phase === "compensate" ? `compensate ${step}` : step}`;
  const span = tracer.startSpan(name, { kind: SpanKind.PRODUCER, attributes }, parentContext(parent));
  const context = span.spanContext();
  const traceparent = formatTraceparent({
    traceId: context.traceId,
    spanId: context.spanId,
    flags: context.traceFlags,
  });
  const headers = { ...message.envelope.headers, [Headers.traceparent]: traceparent };
  return settle(span, () => runtime.send({ ...message, envelope: { ...message.envelope, headers } }));
}

/**
 * Runs the settling of an outcome in a span under the step's: `decide` gets the trace context to
 * parent the next step on, and tells how the saga ended (if it did) for the span to say.
 */
export function settleStep<T>(
  runtime: OrchestratorRuntime,
  def: SagaDefinition,
  envelope: CommandEnvelope,
  outcome: CommandOutcome,
  decide: (parent: TraceContext | undefined, finished: (how: string) => void) => Promise<T>,
): Promise<T> {
  const parent = parseTraceparent(envelope.headers[Headers.traceparent]);
  const tracer = runtime.tracer;
  if (tracer === undefined || parent === undefined) return decide(parent, () => {});
  const tag = envelope.tag as CommandTag;
  const attributes = sagaAttributes(runtime, def, tag);
  if (!outcome.ok) attributes["error.type"] = outcome.error.code;
  const step = attributes[SAGA_STEP] as string;
  const span = tracer.startSpan(
    `saga ${def.name} settle ${tag.phase === "compensate" ? `compensate ${step}` : step}`,
    { kind: SpanKind.CONSUMER, attributes },
    parentContext(parent),
  );
  const context = span.spanContext();
  const current: TraceContext = { traceId: context.traceId, spanId: context.spanId, flags: context.traceFlags };
  return settle(span, () => decide(current, (how) => span.setAttribute(SAGA_FINISHED, how)));
}
