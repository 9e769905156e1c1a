/** @module What a part's fetch gets for one request: the caller's exchange, its own span and time, and the gateway's upstreams. */
import type { Host, TraceContext } from "@flotilla/core";
import type { Span, Tracer } from "@opentelemetry/api";
import type { Exchange } from "../policy.js";
import type { CallSteering } from "../route-handler.js";
import type { Upstream } from "../upstream/upstream.js";
import type { UpstreamMetrics } from "../upstream/upstream-metrics.js";

/** What one part's fetch gets for one request. */
export interface PartCall {
  readonly host: Host;
  /** The route's exchange after its policies: caller, correlation id, request. */
  readonly exchange: Exchange;
  /** The part's span as trace context: the parent of everything the part calls. */
  readonly trace: TraceContext;
  readonly span: Span | undefined;
  readonly tracer: Tracer | undefined;
  /** The part's timeout within what is left of the route's; undefined: the action's or upstream's default. */
  readonly timeoutMs: number | undefined;
  /** The gateway's upstream of that name (checked when the gateway starts). */
  readonly upstream: (name: string) => Upstream;
  readonly upstreamMetrics: UpstreamMetrics | undefined;
  /** The largest upstream answer a part reads. */
  readonly bodyLimitBytes: number;
  /** The versions a traffic split wants for a service's calls, as for the gateway's other routes. */
  readonly steer: CallSteering | undefined;
}
