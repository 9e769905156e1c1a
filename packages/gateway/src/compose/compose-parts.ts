/**
 * @module Runs a composite route's parts for one request: in parallel (a part waits only for the part it
 * depends on), each in its own span and time; a required part's failure fails the route at once.
 */
import { FlotillaError, type Host } from "@flotilla/core";
import { SpanTrace } from "@flotilla/telemetry";
import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { Exchange } from "../policy.js";
import type { CallSteering } from "../route-handler.js";
import type { Upstream } from "../upstream/upstream.js";
import type { UpstreamMetrics } from "../upstream/upstream-metrics.js";
import type { CompositeMetrics, PartOutcome } from "./composite-metrics.js";
import type { Composition } from "./composite-route.js";
import type { Part } from "./part.js";

/** What composing needs from the gateway: its host, tracer, metrics and upstreams. */
export interface ComposeDeps {
  readonly host: Host;
  readonly tracer: Tracer | undefined;
  readonly metrics: CompositeMetrics | undefined;
  readonly upstream: (name: string) => Upstream;
  readonly upstreamMetrics: UpstreamMetrics | undefined;
  readonly bodyLimitBytes: number;
  /** The versions a traffic split wants for a service's calls (docs/traffic.md); none without splits. */
  readonly steer?: CallSteering | undefined;
}

/** The parts' values by name, and the optional parts that have none because they failed. */
export interface PartsResult {
  readonly values: Record<string, unknown>;
  readonly partial: string[];
}

type Settled = { readonly value: unknown; readonly missing: boolean };

/** Rejects with the first required part's error; otherwise resolves once every part has settled. */
export async function composeParts(
  route: string,
  composition: Composition,
  exchange: Exchange,
  deps: ComposeDeps,
  parentSpan: Span | undefined,
): Promise<PartsResult> {
  const deadline = exchange.timeoutMs === undefined ? undefined : performance.now() + exchange.timeoutMs;
  const running = new Map<Part, Promise<Settled>>();
  const names = new Map([...composition.parts].map(([name, part]) => [part, name]));

  const run = (part: Part): Promise<Settled> => {
    let promise = running.get(part);
    if (promise === undefined) {
      promise = runPart(names.get(part) as string, part);
      running.set(part, promise);
    }
    return promise;
  };

  const runPart = async (name: string, part: Part): Promise<Settled> => {
    const span = deps.tracer?.startSpan(
      `part ${name}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          "flotilla.composite": composition.name,
          "flotilla.part": name,
          "flotilla.part.target": part.target,
          "flotilla.part.optional": part.optional,
        },
      },
      parentSpan === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, parentSpan),
    );
    const started = performance.now();
    let outcome: PartOutcome = "ok";
    try {
      let dependency: unknown;
      if (part.after !== undefined) {
        const before = await run(part.after);
        if (before.missing) {
          outcome = "dependency_missing";
          return { value: null, missing: true };
        }
        dependency = before.value;
      }
      const input = part.input(exchange.request, dependency);
      if (input === undefined) {
        outcome = "skipped";
        return { value: null, missing: false };
      }
      const value = await part.fetch(input, {
        host: deps.host,
        exchange,
        trace: span === undefined ? exchange.trace : new SpanTrace(span),
        span,
        tracer: deps.tracer,
        timeoutMs: timeoutOf(part, deadline),
        upstream: deps.upstream,
        upstreamMetrics: deps.upstreamMetrics,
        bodyLimitBytes: deps.bodyLimitBytes,
        steer: deps.steer,
      });
      return { value, missing: false };
    } catch (err) {
      const error = FlotillaError.from(err);
      outcome = error.status === "DEADLINE_EXCEEDED" ? "timeout" : "error";
      span?.setAttribute("error.type", error.code);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      if (!part.optional) throw error;
      exchange.log.warn(
        { part: name, code: error.code, err: error.message },
        "optional part failed: answer is partial",
      );
      return { value: null, missing: true };
    } finally {
      span?.setAttribute("flotilla.part.outcome", outcome);
      span?.end();
      deps.metrics?.part(route, name, outcome, (performance.now() - started) / 1000);
    }
  };

  const entries = [...composition.parts];
  const settled = entries.map(([, part]) => run(part));
  // A required part's failure answers now; the others still settle (and are counted) in the background.
  for (const p of settled) p.catch(() => {});
  const results = await Promise.all(settled);
  const values: Record<string, unknown> = {};
  const partial: string[] = [];
  entries.forEach(([name], i) => {
    const result = results[i] as Settled;
    values[name] = result.value;
    if (result.missing) partial.push(name);
  });
  return { values, partial };
}

/** The part's own timeout within what is left of the route's; a deadline already past fails without a call. */
function timeoutOf(part: Part, deadline: number | undefined): number | undefined {
  if (deadline === undefined) return part.timeoutMs;
  const left = Math.floor(deadline - performance.now());
  if (left <= 0) throw new FlotillaError("DEADLINE_EXCEEDED", "the route's time ran out before this part started");
  return part.timeoutMs === undefined ? left : Math.min(part.timeoutMs, left);
}
