/**
 * @module Architecture fitness from traces: the seeds' anti-patterns where the spans show them, each with
 * the traces that show it. Pure functions over spans (the fitness panel reads them from the trace store).
 */
import { SpanKinds, type SpanRecord } from "@flotilla/telemetry";
import { push } from "./observed-edges.js";

export type FindingKind = "sync-chain" | "chatty-pair" | "shared-database" | "deploy-together";

export interface Finding {
  readonly kind: FindingKind;
  /** The services concerned: a chain in call order, a pair caller first, or sorted. */
  readonly services: readonly string[];
  /** The finding in a sentence. */
  readonly text: string;
  /** How many traces (or occasions) show it. */
  readonly count: number;
  /** Up to MAX_EXAMPLES trace ids that show it, newest first; empty for deploys (they are not traced). */
  readonly traces: readonly string[];
  /** For deploys: when the services started together (ISO times). */
  readonly occasions?: readonly string[];
}

export const MAX_EXAMPLES = 5;

export interface FitnessThresholds {
  /** A synchronous chain is a finding past this many hops (2). */
  readonly maxHops?: number;
  /** A pair is chatty from this many calls of one service to another in one request (5). */
  readonly chattyCalls?: number;
}

/** Every span of each trace, by trace id, newest trace first (the spans come newest first). */
function byTrace(spans: readonly SpanRecord[]): Map<string, SpanRecord[]> {
  const traces = new Map<string, SpanRecord[]>();
  for (const span of spans) push(traces, span.traceId, span);
  return traces;
}

/** A call from one service to another: a CLIENT span and its SERVER child in another service. */
function isCall(parent: SpanRecord | undefined, span: SpanRecord): parent is SpanRecord {
  return (
    parent !== undefined &&
    span.kind === SpanKinds.server &&
    parent.kind === SpanKinds.client &&
    parent.service !== span.service
  );
}

/**
 * The synchronous chain a span runs at the end of: the services called one inside the other, from the
 * request or event that began it. An event handled or a saga step sent starts a new chain (the caller does
 * not wait for them).
 */
function chains(spans: readonly SpanRecord[]): Map<string, readonly string[]> {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const memo = new Map<string, readonly string[]>();
  const pathOf = (span: SpanRecord, depth: number): readonly string[] => {
    const known = memo.get(span.spanId);
    if (known !== undefined) return known;
    const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
    let path: readonly string[];
    // A cycle in bad data, or a very deep trace, ends the walk where it is.
    if (parent === undefined || span.kind === SpanKinds.consumer || depth > 200) path = [span.service];
    else if (span.kind === SpanKinds.server && parent.kind === SpanKinds.producer) path = [span.service];
    else if (isCall(parent, span)) path = [...pathOf(parent, depth + 1), span.service];
    else path = pathOf(parent, depth + 1);
    memo.set(span.spanId, path);
    return path;
  };
  for (const span of spans) pathOf(span, 0);
  return memo;
}

/** Synchronous chains longer than `maxHops` calls, by chain, with the traces that run them. */
export function syncChains(spans: readonly SpanRecord[], thresholds: FitnessThresholds = {}): Finding[] {
  const maxHops = thresholds.maxHops ?? 2;
  const found = new Map<string, { chain: readonly string[]; traces: string[] }>();
  for (const [traceId, list] of byTrace(spans)) {
    let longest: readonly string[] = [];
    for (const path of chains(list).values()) if (path.length > longest.length) longest = path;
    if (longest.length - 1 <= maxHops) continue;
    const key = longest.join(" → ");
    const entry = found.get(key) ?? { chain: longest, traces: [] };
    entry.traces.push(traceId);
    found.set(key, entry);
  }
  return [...found.entries()].map(([key, { chain, traces }]) => ({
    kind: "sync-chain",
    services: chain,
    text: `A synchronous chain of ${chain.length - 1} hops (${key}): each caller waits for the next, so their latencies add up and one failure fails them all.`,
    count: traces.length,
    traces: traces.slice(0, MAX_EXAMPLES),
  }));
}

/** Pairs where one service calls another at least `chattyCalls` times in one request. */
export function chattyPairs(spans: readonly SpanRecord[], thresholds: FitnessThresholds = {}): Finding[] {
  const limit = thresholds.chattyCalls ?? 5;
  const found = new Map<string, { from: string; to: string; traces: string[]; calls: number[] }>();
  for (const [traceId, list] of byTrace(spans)) {
    const byId = new Map(list.map((s) => [s.spanId, s]));
    const counts = new Map<string, number>();
    for (const span of list) {
      const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
      if (!isCall(parent, span)) continue;
      const key = `${parent.service}\u0000${span.service}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const [key, calls] of counts) {
      if (calls < limit) continue;
      const [from = "", to = ""] = key.split("\u0000");
      const entry = found.get(key) ?? { from, to, traces: [], calls: [] };
      entry.traces.push(traceId);
      entry.calls.push(calls);
      found.set(key, entry);
    }
  }
  return [...found.values()].map(({ from, to, traces, calls }) => ({
    kind: "chatty-pair",
    services: [from, to],
    text: `${from} calls ${to} up to ${Math.max(...calls)} times in one request (${traces.length === 1 ? "1 request" : `${traces.length} requests`} with ${limit} or more calls): one batched call would do.`,
    count: traces.length,
    traces: traces.slice(0, MAX_EXAMPLES),
  }));
}

/** Databases (a `db transaction` span's `db.namespace`) that more than one service opens. */
export function sharedDatabases(spans: readonly SpanRecord[]): Finding[] {
  const byNamespace = new Map<string, Map<string, string[]>>();
  for (const span of spans) {
    const namespace = span.attributes["db.namespace"];
    if (span.kind !== SpanKinds.client || typeof namespace !== "string") continue;
    const services = byNamespace.get(namespace) ?? new Map<string, string[]>();
    push(services, span.service, span.traceId);
    byNamespace.set(namespace, services);
  }
  const findings: Finding[] = [];
  for (const [namespace, services] of byNamespace) {
    if (services.size < 2) continue;
    const names = [...services.keys()].sort();
    const owner = names.includes(namespace) ? namespace : undefined;
    const intruders = names.filter((n) => n !== owner);
    // One example trace per service, so each access is shown.
    const traces = [...new Set(names.map((n) => services.get(n)?.[0] ?? ""))].filter(Boolean);
    findings.push({
      kind: "shared-database",
      services: names,
      text:
        owner === undefined
          ? `The database ${namespace} is used by ${names.join(", ")}: each service should own its data.`
          : `${intruders.join(", ")} ${intruders.length === 1 ? "uses" : "use"} the ${owner} database: each service should own its data and others ask it.`,
      count: names.reduce((n, s) => n + new Set(services.get(s)).size, 0),
      traces: traces.slice(0, MAX_EXAMPLES),
    });
  }
  return findings;
}
