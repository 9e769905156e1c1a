/** @module The metrics middleware: RED metrics (rate, errors, duration) in Prometheus form, via prom-client. */
import type { ActionRef, EventRef, InboundAction, InboundEvent, Middleware, OutboundCall } from "@flotilla/core";
import { Gauge, Registry } from "prom-client";
import { BoundCounter, BoundHistogram, type CounterSeries, type HistogramSeries } from "./bound-metrics.js";
import { codeLabel } from "./error-codes.js";
import { type Failure, failureOf, OK } from "./outcome.js";

export interface MetricsOptions {
  /** Where the metrics are registered; a new registry by default (never prom-client's global one). */
  registry?: Registry;
  /** Upper bounds of the duration histograms, in seconds. */
  buckets?: readonly number[];
  /** Distinct error codes outside Flotilla's catalogue and the contracts' recorded before the rest count as `other` (50). */
  maxUnknownCodes?: number;
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
 * `flotilla_event_handling_duration_seconds` by subscription, type and status;
 * `flotilla_events_emitted_total` by type. `status` is `OK` or the failure's status category. Failures
 * are also counted by their code (`flotilla_action_errors_total`, `flotilla_event_errors_total`), and
 * `flotilla_handlers_in_flight` shows the actions and events each service is handling now.
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
  const actionErrors = new BoundCounter({
    name: "flotilla_action_errors_total",
    help: "Actions this instance failed, by error code (codes past a bound count as other).",
    labelNames: ["service", "action", "code"] as const,
    registers,
  });
  const eventErrors = new BoundCounter({
    name: "flotilla_event_errors_total",
    help: "Event deliveries this instance failed to handle, by error code (codes past a bound count as other).",
    labelNames: ["subscription", "type", "code"] as const,
    registers,
  });
  const codeOf = codeLabel(options.maxUnknownCodes ?? 50);
  // Per service, the actions and events its handlers are running now; read when scraped.
  const loads = new Map<string, { actions: Load; events: Load }>();
  const loadOf = (service: string) => {
    let load = loads.get(service);
    if (load === undefined) {
      load = { actions: { value: 0 }, events: { value: 0 } };
      loads.set(service, load);
    }
    return load;
  };
  new Gauge({
    name: "flotilla_handlers_in_flight",
    help: "Actions and events this instance's handlers are running now, by service and kind.",
    labelNames: ["service", "kind"] as const,
    registers,
    collect() {
      for (const [service, load] of loads) {
        this.set({ service, kind: "action" }, load.actions.value);
        this.set({ service, kind: "event" }, load.events.value);
      }
    },
  });
  const eventsEmitted = new BoundCounter({
    name: "flotilla_events_emitted_total",
    help: "Events this instance published (accepted by the transport or its outbox).",
    labelNames: ["type"] as const,
    registers,
  });

  // Series are bound to their label values once and kept, so a call records with no label lookup.
  const actions = new Map<ActionRef, Measured>();
  const calls = new Map<ActionRef, Measured>();
  // One subscription handles one event type, so the subscription name alone keys its series.
  const handled = new Map<string, Measured>();
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
        series = { timed: timed(callDuration, call.ref.service, call.ref.name), load: undefined };
        calls.set(call.ref, series);
      }
      return measure(series, next);
    },

    action(inv: InboundAction, next) {
      let series = actions.get(inv.ref);
      if (series === undefined) {
        const { service, name, errors } = inv.ref;
        const errorCodes = coded(actionErrors, service, name, (code) => codeOf(code, errors));
        series = { timed: both(timed(actionDuration, service, name), errorCodes), load: loadOf(service).actions };
        actions.set(inv.ref, series);
      }
      return measure(series, next);
    },

    event(inv: InboundEvent, next) {
      let series = handled.get(inv.subscription);
      if (series === undefined) {
        const type = inv.envelope.type;
        const { subscription } = inv;
        const durations = counted(timed(eventDuration, subscription, type), eventsHandled, subscription, type);
        const errorCodes = coded(eventErrors, subscription, type, (code) => codeOf(code));
        series = { timed: both(durations, errorCodes), load: loadOf(inv.ctx.service ?? "unknown").events };
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

/** Records one duration with its outcome: undefined for a success. */
interface Timed {
  observe(failure: Failure | undefined, seconds: number): void;
}

/** A number of handlers running now. */
interface Load {
  value: number;
}

interface Measured {
  readonly timed: Timed;
  readonly load: Load | undefined;
}

/** A histogram's series for two fixed label values, one per status. */
function timed(histogram: BoundHistogram<string>, a: string, b: string): Timed {
  const ok = histogram.labels(a, b, OK);
  const failed = new Map<string, HistogramSeries>();
  return {
    observe(failure, seconds) {
      if (failure === undefined) return ok.observe(seconds);
      let child = failed.get(failure.status);
      if (child === undefined) {
        child = histogram.labels(a, b, failure.status);
        failed.set(failure.status, child);
      }
      child.observe(seconds);
    },
  };
}

/** Counts failures by their code, as `label` maps it. */
function coded(counter: BoundCounter<string>, a: string, b: string, label: (code: string) => string): Timed {
  const byCode = new Map<string, CounterSeries>();
  return {
    observe(failure) {
      if (failure === undefined) return;
      let child = byCode.get(failure.code);
      if (child === undefined) {
        child = counter.labels(a, b, label(failure.code));
        byCode.set(failure.code, child);
      }
      child.inc();
    },
  };
}

function both(first: Timed, second: Timed): Timed {
  return {
    observe(failure, seconds) {
      first.observe(failure, seconds);
      second.observe(failure, seconds);
    },
  };
}

/** Adds a counter beside a duration series, also one series per status. */
function counted(duration: Timed, counter: BoundCounter<string>, a: string, b: string): Timed {
  const ok = counter.labels(a, b, OK);
  const failed = new Map<string, CounterSeries>();
  return {
    observe(failure, seconds) {
      duration.observe(failure, seconds);
      if (failure === undefined) return ok.inc();
      let child = failed.get(failure.status);
      if (child === undefined) {
        child = counter.labels(a, b, failure.status);
        failed.set(failure.status, child);
      }
      child.inc();
    },
  };
}

function measure<T>({ timed, load }: Measured, next: () => Promise<T>): Promise<T> {
  const start = performance.now();
  if (load !== undefined) load.value++;
  let result: Promise<T>;
  try {
    result = next();
  } catch (err) {
    result = Promise.reject(err);
  }
  return result.then(
    (value) => {
      if (load !== undefined) load.value--;
      timed.observe(undefined, (performance.now() - start) / 1000);
      return value;
    },
    (err: unknown) => {
      if (load !== undefined) load.value--;
      timed.observe(failureOf(err), (performance.now() - start) / 1000);
      throw err;
    },
  );
}

/** The registry's text in Prometheus exposition format. */
export function renderMetrics(registry: Registry): Promise<string> {
  return registry.metrics();
}
