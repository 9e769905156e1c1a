/** @module Proxy routes as data: an HTTP path and methods forwarded to a named upstream, with path rewriting and policies. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import type { Policy } from "../policy.js";
import type { PathParams } from "../route.js";
import { type Deprecation, type DeprecationSpec, deprecation } from "../traffic/deprecation.js";

export type ProxyMethod = "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What a route's `rewrite` sees of the request. */
export interface ProxiedPath<Params = Readonly<Record<string, string>>> {
  /** Path parameters, percent-decoded. */
  readonly params: Params;
  /** The request's path, as it arrived (still percent-encoded). */
  readonly path: string;
  /** The query with its `?`, or "" for none. */
  readonly search: string;
}

export interface ProxySpec<P extends string = string> {
  /** fastify syntax: `/api/v1/products/:id/reviews`. */
  path: P;
  methods: readonly ProxyMethod[];
  /** The name of one of the gateway's `upstreams`. */
  upstream: string;
  /** The path and query sent upstream (starting with /); the request's own by default. Encode what you insert. */
  rewrite?: (req: ProxiedPath<PathParams<P>>) => string;
  /** Policies for this route only, run after the gateway's global ones (their `onRequest` hooks: see docs/upstreams.md). */
  policies?: readonly Policy[];
  /**
   * Tells the upstream who the authenticated caller is, in this header (e.g. `x-user-id`), as the
   * subject of the verified identity; a value the client sent under that name is always dropped.
   */
  callerHeader?: string;
  /** Marks the route deprecated: `Deprecation`, `Sunset` and `Link` headers on its answers (docs/traffic.md). */
  deprecated?: DeprecationSpec;
}

/** A proxy route as the gateway keeps it. */
export interface ProxyRoute {
  readonly kind: "proxy";
  readonly path: string;
  readonly methods: readonly ProxyMethod[];
  readonly upstream: string;
  readonly rewrite: ((req: ProxiedPath) => string) | undefined;
  readonly policies: readonly Policy[];
  readonly callerHeader: string | undefined;
  readonly deprecated?: Deprecation | undefined;
}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Declares a route the gateway forwards to an HTTP upstream (see docs/upstreams.md). */
export function proxy<P extends string>(spec: ProxySpec<P>): ProxyRoute {
  const fail = (message: string) => FlotillaError.of(FlotillaCodes.CONFIG, `proxy ${spec.path}: ${message}`);
  if (!spec.path.startsWith("/")) throw fail("the path must start with /");
  if (spec.methods.length === 0) throw fail("needs at least one method");
  if (new Set(spec.methods).size !== spec.methods.length) throw fail("a method is listed twice");
  if (spec.callerHeader !== undefined && !HEADER_NAME.test(spec.callerHeader)) {
    throw fail("callerHeader must be a lowercase header name");
  }
  return Object.freeze({
    kind: "proxy",
    path: spec.path,
    methods: [...spec.methods],
    upstream: spec.upstream,
    rewrite: spec.rewrite as ProxyRoute["rewrite"],
    policies: spec.policies ?? [],
    callerHeader: spec.callerHeader,
    deprecated: spec.deprecated === undefined ? undefined : deprecation(spec.deprecated, `proxy ${spec.path}`),
  });
}
