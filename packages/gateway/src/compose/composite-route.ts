/** @module Composite routes as data: one GET answered from several parts (actions, upstreams) fetched in parallel, shaped and checked against a public schema. */
import { action, defineContract, FlotillaCodes, FlotillaError, type Status } from "@flotilla/core";
import { z } from "zod";
import type { Policy } from "../policy.js";
import { type PathParams, type RequestView, type Route, route } from "../route.js";
import { type Part, type PartBuilder, partBuilder } from "./part.js";

/** The parts of a composite route, by the name `shape` sees each under. */
export type Parts = Readonly<Record<string, Part>>;

/** The values `shape` gets: an optional part's is null when it failed, timed out or was skipped. */
export type PartValues<P extends Parts> = {
  readonly [K in keyof P]: P[K] extends Part<infer T, infer O> ? (O extends true ? T | null : T) : never;
};

/** What `shape` knows beyond the values: the request, and which optional parts are missing. */
export interface Composed<P extends Parts, Params> {
  readonly request: RequestView<Params>;
  /** Names of the optional parts that failed or timed out (also in the `flotilla-partial` header); empty when complete. */
  readonly partial: readonly (keyof P & string)[];
}

export interface CompositeSpec<Path extends string, P extends Parts, S extends z.ZodType> {
  /**
   * `<group>.<operation>`, e.g. `web.productPage`: the operation's id and tag in the OpenAPI document.
   * The group is a name of the edge (a front end), not a service.
   */
  name: string;
  description?: string;
  /** Composite routes read: GET only (HEAD shares it). */
  method: "GET";
  /** fastify syntax: `/api/v1/products/:id/page`. */
  path: Path;
  /** The parts, declared with the builder (its request views have the path's parameters typed). */
  parts: (p: PartBuilder<PathParams<Path>>) => P;
  /** Makes the answer from the parts' values; the result is parsed through `output` before it leaves. */
  shape: (values: PartValues<P>, composed: Composed<P, PathParams<Path>>) => z.input<S>;
  /** The public schema of the answer: keys it does not declare are stripped, so no internal field leaks. */
  output: S;
  /** Time for the whole answer; each part's own timeout applies within it. */
  timeoutMs?: number;
  /** Policies for this route only, run after the gateway's global ones, once for all its parts. */
  policies?: readonly Policy[];
}

/** What the gateway keeps of a composite route beside the route itself. */
export interface Composition {
  readonly name: string;
  readonly parts: ReadonlyMap<string, Part>;
  readonly shape: (values: Record<string, unknown>, composed: Composed<Parts, RequestView["params"]>) => unknown;
  readonly output: z.ZodType;
}

/**
 * A route the gateway answers by composing parts: authentication and rate limits run once, like any
 * route's. Its `action` stands for the composition in the OpenAPI document (path parameters in, the
 * declared output out, the required parts' declared errors); no service serves it.
 */
export interface CompositeRoute extends Route {
  readonly composition: Composition;
}

const NAME = /^([a-z][a-z0-9-]{0,62})\.([A-Za-z][A-Za-z0-9_]{0,62})$/;

/** Declares a composite route (see docs/aggregation.md). */
export function composite<Path extends string, P extends Parts, S extends z.ZodType>(
  spec: CompositeSpec<Path, P, S>,
): CompositeRoute {
  const where = `composite ${spec.method} ${spec.path}`;
  const fail = (message: string) => FlotillaError.of(FlotillaCodes.CONFIG, `${where}: ${message}`);
  const name = NAME.exec(spec.name);
  if (name === null) throw fail(`name "${spec.name}" must be <group>.<operation>, e.g. web.productPage`);
  if (spec.method !== "GET") throw fail("composite routes answer GET only");
  const parts = new Map(Object.entries(spec.parts(partBuilder as PartBuilder<never>)));
  if (parts.size === 0) throw fail("needs at least one part");
  const known = new Set(parts.values());
  if (known.size !== parts.size) throw fail("the same part is listed under two names");
  for (const [partName, part] of parts) {
    if (part.after !== undefined && !known.has(part.after)) {
      throw fail(`part ${partName} waits for a part the route does not list`);
    }
  }
  const params = [...spec.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
  const errors: Record<string, Status> = {};
  for (const part of parts.values()) if (!part.optional) Object.assign(errors, part.errors);
  const contract = defineContract({
    service: name[1] as string,
    actions: {
      [name[2] as string]: action({
        input: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))),
        output: spec.output,
        idempotent: true,
        ...(spec.description === undefined ? {} : { description: spec.description }),
      }),
    },
    errors,
  });
  const base = route({
    method: spec.method,
    path: spec.path,
    action: contract[name[2] as string] as never,
    input: (req) => req.params as never,
    ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
    ...(spec.policies === undefined ? {} : { policies: spec.policies }),
  });
  return Object.freeze({
    ...base,
    composition: Object.freeze({
      name: spec.name,
      parts,
      shape: spec.shape as unknown as Composition["shape"],
      output: spec.output,
    }),
  });
}

/** Whether the gateway answers this route by composing parts (rather than by calling its action). */
export function isComposite(r: Route): r is CompositeRoute {
  return (r as Partial<CompositeRoute>).composition !== undefined;
}

/**
 * The services a gateway's routes need to answer (its readiness): each route's action's, and for a
 * composite route the services of its required parts (optional ones only make answers partial).
 */
export function routedServices(routes: readonly Route[]): string[] {
  const services = routes.flatMap((r) =>
    isComposite(r)
      ? [...r.composition.parts.values()].flatMap((p) => (p.optional || p.service === undefined ? [] : [p.service]))
      : [r.action.service],
  );
  return [...new Set(services)];
}
