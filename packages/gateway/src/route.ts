/** @module Routes as data: an HTTP method and path mapped to an action, with input and answer shaping. */
import { type ActionRef, FlotillaCodes, FlotillaError, type InputOf, type OutputOf } from "@flotilla/core";
import { type CacheRule, cacheRule, type RouteCacheSpec } from "./cache/cache-options.js";
import type { Policy } from "./policy.js";
import { type Deprecation, type DeprecationSpec, deprecation } from "./traffic/deprecation.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
export type SuccessStatus = 200 | 201 | 202 | 204;

/** `"/orders/:id/items/:item"` → `"id" | "item"`. */
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** The path parameters of a literal path, each a string; any string key for a path only known at run time. */
export type PathParams<P extends string> = string extends P
  ? Readonly<Record<string, string>>
  : { readonly [K in ParamNames<P>]: string };

/** What a route's `input` and `headers` functions see of the request. */
export interface RequestView<Params = Readonly<Record<string, string>>> {
  readonly method: string;
  /** Path parameters, percent-decoded. */
  readonly params: Params;
  readonly query: Readonly<Record<string, string | string[]>>;
  /** The parsed JSON body; undefined when the request had none. */
  readonly body: unknown;
  /** Lowercase names, as Node parses them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The TCP peer's address (the socket's, never a header's); undefined once the socket is gone. */
  readonly remoteAddress: string | undefined;
}

export interface RouteSpec<R extends ActionRef, P extends string = string> {
  method: HttpMethod;
  /** fastify syntax: `/api/v1/products/:id`. */
  path: P;
  action: R;
  /** Builds the action input; defaults to the JSON body (POST, PUT, PATCH) or query plus params (GET, DELETE). */
  input?: (req: RequestView<PathParams<P>>) => InputOf<R>;
  /** Status of a successful answer (200); an action that returns nothing answers 204 instead of 200. */
  status?: SuccessStatus;
  /** Extra headers of a successful answer, e.g. `Location` of a created resource. */
  headers?: (output: OutputOf<R>, req: RequestView<PathParams<P>>) => Record<string, string>;
  /**
   * An asynchronous answer: 202 Accepted, with `Location` naming where the client follows the work it
   * started (e.g. `(o) => \`/api/v1/orders/${o.orderId}\``). `status` is then 202 or left out.
   */
  accepted?: { location: (output: OutputOf<R>, req: RequestView<PathParams<P>>) => string };
  /** Call timeout; the host's default applies otherwise. */
  timeoutMs?: number;
  /** Policies for this route only, run after the gateway's global ones. */
  policies?: readonly Policy[];
  /** Caches the route's 200 answers at the gateway (GET routes only; HEAD shares them). See docs/caching.md. */
  cache?: RouteCacheSpec<OutputOf<R>>;
  /**
   * Tags of cached answers a successful answer of this route makes stale (a write route: `product:<id>`),
   * dropped by the gateway that served it before it answers; events carry the change to the others.
   */
  invalidates?: (output: OutputOf<R>, req: RequestView<PathParams<P>>) => readonly string[];
  /**
   * Marks the route deprecated: its answers carry `Deprecation`, `Sunset` and `Link` headers, and the
   * OpenAPI document says `deprecated: true` (docs/traffic.md).
   */
  deprecated?: DeprecationSpec;
}

/** A route with its action's types erased, as the gateway keeps it. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly action: ActionRef;
  readonly input: (req: RequestView) => unknown;
  readonly status: SuccessStatus;
  readonly headers: ((output: unknown, req: RequestView) => Record<string, string>) | undefined;
  /** For an `accepted` route: the `Location` of its 202 answer. */
  readonly location: ((output: unknown, req: RequestView) => string) | undefined;
  readonly timeoutMs: number | undefined;
  readonly policies: readonly Policy[];
  /** How the route's answers are cached; undefined: not cached. */
  readonly cache: CacheRule | undefined;
  readonly invalidates: ((output: unknown, req: RequestView) => readonly string[]) | undefined;
  /** The route's deprecation, with the headers its answers carry; undefined when it is not deprecated. */
  readonly deprecated?: Deprecation | undefined;
}

const BODY_METHODS: ReadonlySet<HttpMethod> = new Set(["POST", "PUT", "PATCH"]);

const bodyInput = (req: RequestView): unknown => req.body;
const queryInput = (req: RequestView): unknown => ({ ...req.query, ...req.params });

export function route<R extends ActionRef, P extends string>(spec: RouteSpec<R, P>): Route {
  if (!spec.path.startsWith("/")) throw configError(`route path "${spec.path}" must start with /`);
  if (spec.timeoutMs !== undefined && !(spec.timeoutMs > 0)) {
    throw configError(`route ${spec.method} ${spec.path}: timeoutMs must be positive`);
  }
  if (spec.accepted !== undefined && (spec.status ?? 202) !== 202) {
    throw configError(`route ${spec.method} ${spec.path}: an accepted route answers 202, not ${spec.status}`);
  }
  const where = `route ${spec.method} ${spec.path}`;
  if (spec.cache !== undefined && (spec.method !== "GET" || (spec.status ?? 200) !== 200 || spec.accepted)) {
    throw configError(`${where}: only GET routes answering 200 can be cached`);
  }
  return Object.freeze({
    method: spec.method,
    path: spec.path,
    action: spec.action,
    input: (spec.input as Route["input"] | undefined) ?? (BODY_METHODS.has(spec.method) ? bodyInput : queryInput),
    status: spec.status ?? (spec.accepted === undefined ? 200 : 202),
    headers: spec.headers as Route["headers"],
    location: spec.accepted?.location as Route["location"],
    timeoutMs: spec.timeoutMs,
    policies: spec.policies ?? [],
    cache: spec.cache === undefined ? undefined : cacheRule(spec.cache as RouteCacheSpec<never>, where, spec.path),
    invalidates: spec.invalidates as Route["invalidates"],
    deprecated: spec.deprecated === undefined ? undefined : deprecation(spec.deprecated, where),
  });
}

function configError(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
