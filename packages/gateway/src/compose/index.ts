/** @module Composite routes: one answer from several parts (actions, upstreams) fetched in parallel, shaped for a front end. */
export { CompositeCodes } from "./composite-errors.js";
export { installComposites, PARTIAL_HEADER } from "./composite-handler.js";
export type { CompositeMetrics, PartOutcome } from "./composite-metrics.js";
export type {
  Composed,
  CompositeRoute,
  CompositeSpec,
  Composition,
  Parts,
  PartValues,
} from "./composite-route.js";
export { composite, isComposite, routedServices } from "./composite-route.js";
export type { IsOptional, Part, PartBuilder, PartOptions, UpstreamPartOptions } from "./part.js";
