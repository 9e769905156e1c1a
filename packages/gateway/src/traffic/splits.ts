/** @module Declaring splits: a service's versions (`versionSplit`) or one route's variants (`splitRoute`). */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import type { HttpMethod, Route } from "../route.js";
import type { ProxyRoute } from "../upstream/proxy-route.js";
import { type Deprecation, type DeprecationSpec, deprecation } from "./deprecation.js";

export interface VersionSplitSpec<V extends string> {
  /** The service whose calls are steered. */
  service: string;
  /** Variant name → contract version prefix of the service's instances (`"2"` matches 2.x.y). */
  variants: Readonly<Record<V, string>>;
  /** Where everything goes until rules say otherwise, and where calls fall back when a variant has no ready instance. */
  default: NoInfer<V>;
  /** The rules a gateway starts with (JSON, as `PUT /_flotilla/traffic/:split` takes); absent: all to the default. */
  rules?: unknown;
}

/** A split of every call the gateway makes to one service between its versions. */
export interface VersionSplit {
  readonly kind: "version";
  readonly service: string;
  readonly variants: Readonly<Record<string, string>>;
  readonly default: string;
  readonly rules: unknown;
}

export interface SplitRouteSpec<V extends string> {
  /** The split's name, as the admin routes and the `flotilla-variant` header show it. */
  name: string;
  method: HttpMethod;
  /** fastify syntax; every variant is declared on this method and path. */
  path: string;
  /** Variant name → a `route()` to an action or a `proxy()` to an upstream; each keeps its own policies. */
  variants: Readonly<Record<V, Route | ProxyRoute>>;
  default: NoInfer<V>;
  rules?: unknown;
  /**
   * JSON paths left out of shadow comparisons (dot-separated, `*` for any key or index): fields that
   * differ by nature, e.g. `["generatedAt", "items.*.etag"]`.
   */
  ignore?: readonly string[];
  /** Marks the route deprecated (headers and OpenAPI); see docs/traffic.md. */
  deprecated?: DeprecationSpec;
}

/** One route served by one of several variants, chosen per request. */
export interface SplitRoute {
  readonly kind: "route";
  readonly name: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly variants: Readonly<Record<string, Route | ProxyRoute>>;
  readonly default: string;
  readonly rules: unknown;
  readonly ignore: readonly string[];
  readonly deprecated: Deprecation | undefined;
}

export type Split = VersionSplit | SplitRoute;

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Declares a version split; the gateway's `splits` option names it. */
export function versionSplit<V extends string>(spec: VersionSplitSpec<V>): VersionSplit {
  const where = `versionSplit(${spec.service})`;
  checkVariants(where, Object.keys(spec.variants), spec.default);
  for (const [name, prefix] of Object.entries<string>(spec.variants)) {
    if (!/^\d+(\.\d+){0,2}$/.test(prefix))
      throw config(`${where}: variant ${name} needs a version prefix like "2" or "2.1"`);
  }
  return Object.freeze({
    kind: "version",
    service: spec.service,
    variants: Object.freeze({ ...spec.variants }),
    default: spec.default,
    rules: spec.rules,
  });
}

/** Declares a route split; the gateway's `splits` option names it by `name`. */
export function splitRoute<V extends string>(spec: SplitRouteSpec<V>): SplitRoute {
  const where = `splitRoute(${spec.name})`;
  if (!NAME.test(spec.name)) throw config(`${where}: a split name is lowercase letters, digits, - and _`);
  checkVariants(where, Object.keys(spec.variants), spec.default);
  for (const [name, variant] of Object.entries<Route | ProxyRoute>(spec.variants)) {
    if (variant.path !== spec.path) throw config(`${where}: variant ${name} is on ${variant.path}, not ${spec.path}`);
    const serves = "kind" in variant ? variant.methods.includes(spec.method) : variant.method === spec.method;
    if (!serves) throw config(`${where}: variant ${name} does not serve ${spec.method}`);
    if ("kind" in variant && !["GET", "DELETE"].includes(spec.method)) {
      throw config(
        `${where}: a proxy variant can be split on GET and DELETE only (its body streams upstream unparsed)`,
      );
    }
  }
  return Object.freeze({
    kind: "route",
    name: spec.name,
    method: spec.method,
    path: spec.path,
    variants: Object.freeze({ ...spec.variants }),
    default: spec.default,
    rules: spec.rules,
    ignore: [...(spec.ignore ?? [])],
    deprecated: spec.deprecated === undefined ? undefined : deprecation(spec.deprecated, where),
  });
}

/** The variants' names, in declaration order. */
export const variantNames = (split: Split): readonly string[] => Object.keys(split.variants);

function checkVariants(where: string, names: readonly string[], defaultVariant: string): void {
  if (names.length < 2) throw config(`${where}: needs at least two variants`);
  for (const name of names) {
    if (!NAME.test(name)) throw config(`${where}: variant "${name}" must be lowercase letters, digits, - and _`);
  }
  if (!names.includes(defaultVariant)) throw config(`${where}: the default "${defaultVariant}" is not a variant`);
}

function config(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
