/** @module Policies: small composable pieces of cross-cutting gateway behaviour, global or per route. */
import { type Host, type Identity, parseOrThrow, type TraceContext } from "@flotilla/core";
import type { RequestView, Route } from "./route.js";

/** One request on its way to an action, as policies see and shape it. */
export interface Exchange {
  readonly request: RequestView;
  readonly route: Route;
  /** The gateway's span; its trace id is the one every hop and log line of this request carries. */
  readonly trace: TraceContext;
  readonly correlationId: string;
  /** A logger carrying the trace and correlation ids. */
  readonly log: Host["log"];
  /** Who is calling; an authentication policy sets it and services see it as `ctx.caller`. */
  caller: Identity | undefined;
  /** The call's timeout; starts as the route's. */
  timeoutMs: number | undefined;
  /**
   * The action input: built by the route's `input` after `onRequest` hooks and validated against the action's
   * input schema (the parsed value: coerced, defaulted, unknown keys stripped), before `around` hooks.
   */
  input: unknown;
  /** Sets a header on whatever answer this request gets, success or error (e.g. rate-limit headers). */
  setHeader(name: string, value: string): void;
}

/**
 * Cross-cutting behaviour (authentication, limits, caching, …). Policies run in order: the gateway's
 * global ones, then the route's. Throw a FlotillaError from either hook to answer with that error.
 */
export interface Policy {
  readonly name: string;
  /** Inspects the request before its input is built: authenticate, check a limit, set the caller. */
  onRequest?(exchange: Exchange): void | Promise<void>;
  /** Wraps the call: return without calling `next` to answer from elsewhere (a cache), or change the output. */
  around?(exchange: Exchange, next: () => Promise<unknown>): Promise<unknown>;
  /** Releases what the policy holds (a store's connection); the gateway calls it once, after its last request. */
  close?(): void | Promise<void>;
}

/** Runs a route's policies around `call`, composed once per route rather than per request. */
export function composePolicies(
  policies: readonly Policy[],
  call: (exchange: Exchange) => Promise<unknown>,
): (exchange: Exchange) => Promise<unknown> {
  const onRequest = policies.filter((p) => p.onRequest !== undefined);
  let chain = call;
  for (const policy of [...policies].reverse()) {
    if (policy.around === undefined) continue;
    const next = chain;
    chain = (exchange) => policy.around!(exchange, () => next(exchange));
  }
  const wrapped = chain;
  return async (exchange) => {
    for (const policy of onRequest) await policy.onRequest!(exchange);
    const { route } = exchange;
    // Validated here, at the edge, so input the contract refuses never reaches a service; the parsed value
    // is what travels, so the service gets exactly what was checked.
    exchange.input = parseOrThrow(route.action.input, route.input(exchange.request), `input for ${route.action.fqn}`);
    return wrapped(exchange);
  };
}
