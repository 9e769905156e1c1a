/** @module Spans of the dashboard's event views (`dashboard.flow.*`, `dashboard.dead-letters.*`) around their reads and actions. */
import { FlotillaError } from "@flotilla/core";
import { type Attributes, SpanStatusCode, type Tracer } from "@opentelemetry/api";

/** Runs `fn` in a span named `name` (none without a tracer), marked failed with the error's code if it throws. */
export async function spanned<T>(
  tracer: Tracer | undefined,
  name: string,
  fn: () => Promise<T>,
  attributes: Attributes = {},
): Promise<T> {
  if (tracer === undefined) return fn();
  const span = tracer.startSpan(name, { attributes });
  try {
    return await fn();
  } catch (err) {
    const code = err instanceof FlotillaError ? err.code : "INTERNAL";
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    throw err;
  } finally {
    span.end();
  }
}
