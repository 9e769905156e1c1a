/**
 * @module What the Metrics view takes from one process's Prometheus text: the cumulative RED figures per
 * route, action and event handler (request count, errors, duration buckets) and the outbox backlog per
 * service (docs/operations.md#metrics names them). Everything else in the text is left out.
 */
import type { PromSample } from "./metrics-prometheus.js";

/** `route`: the gateway's requests by method and route template; `action`: a service's actions; `handler`: event deliveries. */
export type RedKind = "route" | "action" | "handler";

/** Cumulative figures of one series in one process, as its counters and histogram say them. */
export interface RedTotals {
  count: number;
  /** Routes: answers 500 and up; actions and handlers: every status but `OK`. */
  errors: number;
  /** Routes only: answers 400 to 499 (the caller's mistakes, refusals, unknown ids). */
  clientErrors: number;
  /** Histogram bucket upper bound → cumulative count, summed over statuses. */
  readonly buckets: Map<number, number>;
}

/** One process's reading. Series ids are `<kind> <key>`: `route GET /api/v1/products`, `action catalog.get`. */
export interface SourceReading {
  readonly red: Map<string, RedTotals>;
  /** Outbox backlog by service (summed over the `instance` label). */
  readonly outbox: Map<string, number>;
}

const FAMILIES: Readonly<Record<string, RedKind>> = {
  flotilla_http_request_duration_seconds: "route",
  flotilla_action_duration_seconds: "action",
  flotilla_event_handling_duration_seconds: "handler",
};

export function readingOf(samples: readonly PromSample[]): SourceReading {
  const red = new Map<string, RedTotals>();
  const outbox = new Map<string, number>();
  for (const { name, labels, value } of samples) {
    if (name === "flotilla_outbox_backlog_events") {
      const service = labels.service ?? "";
      outbox.set(service, (outbox.get(service) ?? 0) + value);
      continue;
    }
    const cut = name.lastIndexOf("_");
    const kind = FAMILIES[name.slice(0, cut)];
    const part = name.slice(cut + 1);
    if (kind === undefined || (part !== "count" && part !== "bucket")) continue;
    const id = `${kind} ${keyOf(kind, labels)}`;
    let totals = red.get(id);
    if (totals === undefined) {
      totals = { count: 0, errors: 0, clientErrors: 0, buckets: new Map() };
      red.set(id, totals);
    }
    if (part === "bucket") {
      const le = labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.le);
      if (!Number.isNaN(le)) totals.buckets.set(le, (totals.buckets.get(le) ?? 0) + value);
      continue;
    }
    totals.count += value;
    if (kind === "route") {
      const code = Number(labels.code);
      if (code >= 500) totals.errors += value;
      else if (code >= 400) totals.clientErrors += value;
    } else if (labels.status !== "OK") totals.errors += value;
  }
  return { red, outbox };
}

function keyOf(kind: RedKind, labels: Readonly<Record<string, string>>): string {
  if (kind === "route") return `${labels.method ?? ""} ${labels.route ?? ""}`;
  if (kind === "action") return `${labels.service ?? ""}.${labels.action ?? ""}`;
  return `${labels.subscription ?? ""} ${labels.type ?? ""}`;
}

/**
 * The q-quantile of the observations a set of cumulative buckets counts, interpolated linearly within its
 * bucket as PromQL's histogram_quantile does; null without observations. A rank in the `+Inf` bucket
 * answers the highest finite bound.
 */
export function quantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Number.POSITIVE_INFINITY) ?? buckets.get(bounds[bounds.length - 1] as number) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bound of bounds) {
    const count = buckets.get(bound) as number;
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lower;
      if (count === below) return bound;
      return lower + ((bound - lower) * (rank - below)) / (count - below);
    }
    lower = bound;
    below = count;
  }
  return lower;
}
