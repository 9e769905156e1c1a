/** @module The metrics middleware: RED metrics (rate, errors, duration) in Prometheus form, via prom-client. */
import type { ActionRef, EventRef, InboundAction, InboundEvent, Middleware, OutboundCall } from "@flotilla/core";
import { Registry } from "prom-client";
import { BoundCounter, BoundHistogram, type CounterSeries, type HistogramSeries } from "./bound-metrics.js";
import { failureOf, OK } from "./outcome.js";

export interface MetricsOptions {
  /** Where the metrics are registered; a new registry by default (never prom-client's global one). */
  registry?: Registry;
  /** Upper bounds of the duration histograms, in seconds. */
  buckets?: readonly number[];
}

export interface MetricsMiddleware extends Middleware {
  readonly registry: Registry;
  /** The registry in Prometheus text exposition format, for a `/metrics` endpoint. */
  render(): Promise<string>;
  /** The content type to serve `render()`'s text with. */
  readonly contentType: string;
}

/** In-process calls take microseconds and remote ones milliseconds; the buckets span both. */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * Records `flotilla_action_duration_seconds` (server side) and `flotilla_call_duration_seconds`
 * (client side) by service, action and status; `flotilla_events_handled_total` and
 * `flotilla_event_handling_duration_seconds` by subscription, type and status; and
 * `flotilla_events_emitted_total` by type. `status` is `OK` or the failure's status category.
 */
export function metrics(options: MetricsOptions = {}): MetricsMiddleware {
  const registry = options.registry ?? new Registry();
  const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)];
  const registers = [registry];
  const actionDuration = new BoundHistogram({
    name: "flotilla_action_duration_seconds",
    help: "Time this instance spent handling an action, by outcome.",
    labelNames: ["service", "action", "status"] as const,
    buckets,
    registers,
  });
  const callDuration = new BoundHistogram({
    name: "flotilla_call_duration_seconds",
    help: "Time a call from this instance took until its reply, by outcome.",
    labelNames: ["service", "action", "status"] as const,
    buckets,
    registers,
  });
  const eventsHandled = new BoundCounter({
    name: "flotilla_events_handled_total",
    help: "Events this instance handled, by subscription and outcome (a failure is redelivered or dead-lettered).",
    labelNames: ["subscription", "type", "status"] as const,
    registers,
  });
  const eventDuration = new BoundHistogram({
    name: "flotilla_event_handling_duration_seconds",
    help: "Time this instance spent handling an event, by subscription and outcome.",
    labelNames: ["subscription", "type", "status"] as const,
    buckets,
    registers,
  });
  const eventsEmitted = new BoundCounter({
    name: "flotilla_events_emitted_total",
    help: "Events this instance published (accepted by the transport or its outbox).",
    labelNames: ["type"] as const,
    registers,
  });

  // Series are bound to their label values once and kept, so a call records with no label lookup.
  const actions = new Map<ActionRef, Timed>();
  const calls = new Map<ActionRef, Timed>();
  // One subscription handles one event type, so the subscription name alone keys its series.
  const handled = new Map<string, Timed>();
  const emitted = new Map<EventRef, CounterSeries>();

  return {
    name: "metrics",
    registry,
    get contentType() {
      return registry.contentType;
    },
    render: () => registry.metrics(),

    call(call: OutboundCall, next) {
      let series = calls.get(call.ref);
      if (series === undefined) {
        series = timed(callDuration, call.ref.service, call.ref.name);
        calls.set(call.ref, series);
      }
      return measure(series, next);
    },

    action(inv: InboundAction, next) {
      let series = actions.get(inv.ref);
      if (series === undefined) {
        series = timed(actionDuration, inv.ref.service, inv.ref.name);
        actions.set(inv.ref, series);
      }
      return measure(series, next);
    },

    event(inv: InboundEvent, next) {
      let series = handled.get(inv.subscription);
      if (series === undefined) {
        const type = inv.envelope.type;
        series = counted(timed(eventDuration, inv.subscription, type), eventsHandled, inv.subscription, type);
        handled.set(inv.subscription, series);
      }
      return measure(series, next);
    },

    async emit(e, next) {
      await next();
      let counter = emitted.get(e.ref);
      if (counter === undefined) {
        counter = eventsEmitted.labels(e.ref.type);
        emitted.set(e.ref, counter);
      }
      counter.inc();
    },
  };
}

/** Records one duration with its outcome. */
interface Timed {
  observe(status: string, seconds: number): void;
}

/** A histogram's series for two fixed label values, one per status. */
function timed(histogram: BoundHistogram<string>, a: string, b: string): Timed {
  const ok = histogram.labels(a, b, OK);
  const failed = new Map<string, HistogramSeries>();
  return {
    observe(status, seconds) {
      if (status === OK) return ok.observe(seconds);
      let child = failed.get(status);
      if (child === undefined) {
        child = histogram.labels(a, b, status);
        failed.set(status, child);
      }
      child.observe(seconds);
    },
  };
}

/** Adds a counter beside a duration series, also one series per status. */
function counted(duration: Timed, counter: BoundCounter<string>, a: string, b: string): Timed {
  const ok = counter.labels(a, b, OK);
  const failed = new Map<string, CounterSeries>();
  return {
    observe(status, seconds) {
      duration.observe(status, seconds);
      if (status === OK) return ok.inc();
      let child = failed.get(status);
      if (child === undefined) {
        child = counter.labels(a, b, status);
        failed.set(status, child);
      }
      child.inc();
    },
  };
}

function measure<T>(series: Timed, next: () => Promise<T>): Promise<T> {
  const start = performance.now();
  let result: Promise<T>;
  try {
    result = next();
  } catch (err) {
    result = Promise.reject(err);
  }
  return result.then(
    (value) => {
      series.observe(OK, (performance.now() - start) / 1000);
      return value;
    },
    (err: unknown) => {
      series.observe(failureOf(err).status, (performance.now() - start) / 1000);
      throw err;
    },
  );
}

/** The registry's text in Prometheus exposition format. */
export function renderMetrics(registry: Registry): Promise<string> {
  return registry.metrics();
}
