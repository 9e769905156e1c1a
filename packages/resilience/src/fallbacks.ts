/** @module Fallbacks: answer chosen actions from a local function when the dependency could not. */
import { FlotillaCodes, FlotillaError, type Middleware, type OutboundCall } from "@flotilla/core";
import { isDependencyFailure } from "./failures.js";

/** Produces the action's output in place of the failed call; the contract's output schema checks it. */
export type FallbackAnswer = (call: OutboundCall, err: FlotillaError) => unknown;

export interface FallbackSpec {
  answer: FallbackAnswer;
  /** Which failures the fallback answers (default: the dependency could not answer — see README). */
  when?: (err: FlotillaError, call: OutboundCall) => boolean;
}

/** Fallbacks by action (`service.action`); other actions pass untouched. */
export function fallbacks(byAction: Record<string, FallbackAnswer | FallbackSpec>): Middleware {
  const specs = new Map<string, Required<FallbackSpec>>();
  for (const [fqn, value] of Object.entries(byAction)) {
    const spec = typeof value === "function" ? { answer: value } : value;
    specs.set(fqn, { answer: spec.answer, when: spec.when ?? isDependencyFailure });
  }
  return {
    name: "fallbacks",
    async call(call, next) {
      const spec = specs.get(call.ref.fqn);
      if (spec === undefined) return next();
      try {
        return await next();
      } catch (err) {
        const fe = FlotillaError.from(err);
        if (!spec.when(fe, call)) throw err;
        const output = call.ref.output.safeParse(await spec.answer(call, fe));
        if (!output.success) {
          throw FlotillaError.of(
            FlotillaCodes.INVALID_OUTPUT,
            `fallback for ${call.ref.fqn} returned output its contract rejects`,
            {
              details: { issues: output.error.issues },
              cause: fe,
            },
          );
        }
        call.ctx.log.warn({ action: call.ref.fqn, err: fe }, "answered from a fallback");
        return output.data;
      }
    },
  };
}
