/** @module Parts of a composite route: what each fetches (an action, or an upstream's JSON), after which other part, within what time. */
import {
  type ActionRef,
  FlotillaCodes,
  FlotillaError,
  type InputOf,
  type OutputOf,
  parseOrThrow,
  type Status,
} from "@flotilla/core";
import type { z } from "zod";
import type { RequestView } from "../route.js";
import type { PartCall } from "./part-call.js";
import { fetchUpstreamJson } from "./upstream-part-call.js";

/** How a part may fail, and how long it may take. */
export interface PartOptions {
  /**
   * The answer can do without this part: when it fails or times out its value is null and the answer
   * is partial (listed in `partial` and the `flotilla-partial` header). Required parts fail the route.
   */
  readonly optional?: boolean;
  /** This part's own timeout, within what is left of the route's; the action's (or upstream's) default otherwise. */
  readonly timeoutMs?: number;
}

/** A part whose value the answer can do without is typed `T | null`. */
export type IsOptional<O> = O extends { readonly optional: true } ? true : false;

/**
 * One piece of a composite answer. Built with the `PartBuilder` a composite route's `parts` receives;
 * its value reaches the route's `shape` under the name it is given there.
 */
export interface Part<T = unknown, Optional extends boolean = boolean> {
  readonly optional: Optional;
  readonly timeoutMs: number | undefined;
  /** The part whose value this one's input is made from; it runs first. */
  readonly after: Part | undefined;
  /** What it fetches, for spans and logs: `action catalog.getProduct`, `upstream legacy`. */
  readonly target: string;
  /** The service its action belongs to; undefined for an upstream part. */
  readonly service: string | undefined;
  /** Its action (`catalog.getProduct`); undefined for an upstream part. */
  readonly action: string | undefined;
  /** The gateway upstream it reads from; undefined for an action part. */
  readonly upstream: string | undefined;
  /** The declared errors of its action's contract (documented for the route when the part is required). */
  readonly errors: Readonly<Record<string, Status>>;
  /** The part's input from the request (and its dependency's value); undefined: nothing to fetch this time. */
  readonly input: (request: RequestView, dependency: unknown) => unknown;
  readonly fetch: (input: unknown, call: PartCall) => Promise<unknown>;
  /** Carries the value's type; never set. */
  readonly __value?: T;
}

export interface UpstreamPartOptions<S extends z.ZodType> extends PartOptions {
  /** Checks (and strips) the upstream's JSON; an answer that does not fit is a failure of the part. */
  readonly output?: S;
}

/** Declares the parts of one composite route, with its path's parameters typed. */
export interface PartBuilder<Params> {
  /** Calls `action` with the input made from the request, as a route to the action would. */
  action<R extends ActionRef, const O extends PartOptions = PartOptions>(
    action: R,
    input: (request: RequestView<Params>) => InputOf<R>,
    options?: O,
  ): Part<OutputOf<R>, IsOptional<O>>;
  /**
   * Calls `action` once `dependency` has its value, with the input made from it; `input` returning
   * undefined skips the call (the value is null, and the answer is not partial for it). A required part
   * cannot wait for an optional one.
   */
  after<D, R extends ActionRef, const O extends PartOptions = PartOptions>(
    dependency: Part<D>,
    action: R,
    input: (value: D, request: RequestView<Params>) => InputOf<R> | undefined,
    options?: O,
  ): Part<OutputOf<R> | null, IsOptional<O>>;
  /** GETs `path` (with its query) from the named upstream of the gateway and parses its JSON answer. */
  upstream<S extends z.ZodType = z.ZodUnknown, const O extends UpstreamPartOptions<S> = UpstreamPartOptions<S>>(
    upstream: string,
    path: (request: RequestView<Params>) => string,
    options?: O & UpstreamPartOptions<S>,
  ): Part<z.output<S>, IsOptional<O>>;
}

function checked(options: PartOptions | undefined, what: string): { optional: boolean; timeoutMs: number | undefined } {
  const timeoutMs = options?.timeoutMs;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `part ${what}: timeoutMs must be positive`);
  }
  return { optional: options?.optional === true, timeoutMs };
}

function actionPart(
  ref: ActionRef,
  input: Part["input"],
  options: PartOptions | undefined,
  after: Part | undefined,
): Part {
  const fetch = (given: unknown, call: PartCall): Promise<unknown> => {
    // Checked here, as a route checks its input: what the contract refuses never leaves the gateway.
    const value = parseOrThrow(ref.input, given, `input for ${ref.fqn}`);
    const baggage = call.exchange.request.headers.baggage;
    const versions = call.steer?.(ref.service, call.exchange);
    return call.host
      .context({
        trace: call.trace,
        correlationId: call.exchange.correlationId,
        caller: call.exchange.caller,
        timeoutMs: call.timeoutMs,
        ...(typeof baggage === "string" ? { baggage } : {}),
      })
      .call(ref, value as never, versions === undefined ? undefined : { versions });
  };
  const target = `action ${ref.fqn}`;
  if (after?.optional === true && options?.optional !== true) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `part ${target}: a required part cannot wait for an optional one`);
  }
  return {
    ...checked(options, target),
    after,
    target,
    service: ref.service,
    action: ref.fqn,
    upstream: undefined,
    errors: ref.errors,
    input,
    fetch,
  };
}

/** The builder every composite route's `parts` function gets; stateless, its types are bound per route. */
export const partBuilder: PartBuilder<never> = {
  action: (ref, input, options) => actionPart(ref, (req) => input(req as never), options, undefined) as never,
  after: (dependency, ref, input, options) =>
    actionPart(ref, (req, value) => input(value as never, req as never), options, dependency as Part) as never,
  upstream: (upstream, path, options): never => {
    const part: Part = {
      ...checked(options, `upstream ${upstream}`),
      after: undefined,
      target: `upstream ${upstream}`,
      action: undefined,
      service: undefined,
      upstream,
      errors: {},
      input: (req: RequestView) => path(req as never),
      fetch: (input: unknown, call: PartCall) => fetchUpstreamJson(upstream, input as string, options?.output, call),
    };
    return part as never;
  },
};
