/**
 * @module Where the Sagas view reads: the saga services running in this process in place, the others
 * through the ops port of one of their ready instances in the registry (a service's instances share its
 * database, so one answers for all; the next is tried when one fails). Services that could not be read
 * are named in the answer rather than failing it.
 */
import { FlotillaError, type Host, type Registry } from "@flotilla/core";
import type { SagaCount, SagaFilter, SagaSummary } from "@flotilla/saga";
import { INVALID_SPAN_CONTEXT, type Span, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { OpsSagaAnswer, OpsSagaList } from "../ops-sagas.js";
import { newestFirst, type SagaReader, type SagaView, sagaReaders } from "../saga-readers.js";

export type ServiceSaga = SagaSummary & { service: string };
export type ServiceCount = SagaCount & { service: string };

/** A service whose sagas are not in the answer, and why. */
export interface Unreadable {
  readonly service: string;
  readonly reason: string;
}

export interface SagaListing {
  readonly sagas: ServiceSaga[];
  readonly counts: ServiceCount[];
  readonly unreadable: Unreadable[];
}

export interface SagaSourceOptions {
  /** Services that run saga orchestrators, wherever they run (the app's definitions say). */
  readonly services: readonly string[];
  readonly host: Host | undefined;
  readonly registry: Registry | undefined;
  readonly tracer: Tracer | undefined;
  /** How long one instance's ops port may take to answer (2,000 ms). */
  readonly timeoutMs?: number;
}

export interface SagaSource {
  list(filter: SagaFilter): Promise<SagaListing>;
  /** One saga with its journal, from whichever service has it; NOT_FOUND when none does. */
  get(id: string): Promise<SagaView & { service: string }>;
}

export function sagaSource(options: SagaSourceOptions): SagaSource {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const local = (): SagaReader[] => (options.host === undefined ? [] : sagaReaders(options.host));
  const remoteServices = (readers: readonly SagaReader[]) =>
    options.services.filter((s) => !readers.some((r) => r.service === s));

  /**
   * Asks the ops ports of a service's ready instances in turn; the first that answers wins. A 404 means
   * "no such saga" when `absent` says so (another instance reads the same database: no use asking it),
   * else that the instance has no sagas attached (yet), and the next is asked.
   */
  const ask = async <T>(service: string, path: string, query: URLSearchParams, absent = false): Promise<Remote<T>> => {
    const registry = options.registry;
    if (registry === undefined) {
      return { ok: false, reason: "runs in another process, and there is no registry to find it" };
    }
    const instances = registry.instances(service).filter((i) => i.ready && i.endpoint !== undefined);
    if (instances.length === 0) return { ok: false, reason: "no ready instance with an ops port in the registry" };
    query.set("service", service);
    let reason = "";
    for (const instance of instances) {
      const url = `${instance.endpoint}${path}?${query}`;
      const answer = await spanned(options.tracer, "dashboard.sagas.fetch", async (span) => {
        span.setAttribute("flotilla.service", service);
        span.setAttribute("flotilla.instance", instance.instance);
        span.setAttribute("url.full", url);
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        span.setAttribute("http.response.status_code", res.status);
        const body = (await res.json()) as { error?: string };
        return { status: res.status, body };
      }).catch((err: unknown) => ({ status: 0, body: { error: err instanceof Error ? err.message : String(err) } }));
      if (answer.status === 200) return { ok: true, value: answer.body as T };
      // Not there: another instance reads the same database, so it would not be there either.
      if (answer.status === 404 && absent) return { ok: true, value: undefined };
      reason = `${instance.instance}: ${answer.status === 0 ? "" : `${answer.status} `}${answer.body.error ?? ""}`;
    }
    return { ok: false, reason: `no instance answered (last: ${reason})` };
  };

  return {
    list: (filter) =>
      spanned(options.tracer, "dashboard.sagas.list", async (span) => {
        const readers = local();
        const query = filterQuery(filter);
        const here = readers.map(async (r) => {
          const [sagas, counts] = await Promise.all([r.list(filter), r.counts()]);
          return {
            sagas: sagas.map((s) => ({ ...s, service: r.service })),
            counts: counts.map((c) => ({ ...c, service: r.service })),
          };
        });
        const there = remoteServices(readers).map(async (service) => {
          const answer = await ask<OpsSagaList>(service, "/sagas", new URLSearchParams(query));
          if (!answer.ok) return { sagas: [], counts: [], unreadable: { service, reason: answer.reason } };
          return { sagas: answer.value?.sagas ?? [], counts: answer.value?.counts ?? [] };
        });
        const read: Array<{ sagas: ServiceSaga[]; counts: ServiceCount[]; unreadable?: Unreadable }> =
          await Promise.all([...here, ...there]);
        const listing = {
          sagas: newestFirst(
            read.flatMap((r) => r.sagas),
            filter.limit,
          ),
          counts: read.flatMap((r) => r.counts),
          unreadable: read.flatMap((r) => (r.unreadable === undefined ? [] : [r.unreadable])),
        };
        span.setAttribute("flotilla.dashboard.sagas", listing.sagas.length);
        span.setAttribute("flotilla.dashboard.unreadable", listing.unreadable.length);
        return listing;
      }),

    get: (id) =>
      spanned(options.tracer, "dashboard.sagas.get", async (span) => {
        span.setAttribute("flotilla.saga.id", id);
        const readers = local();
        for (const reader of readers) {
          const saga = await reader.get(id);
          if (saga !== undefined) return { ...saga, service: reader.service };
        }
        const unreadable: string[] = [];
        for (const service of remoteServices(readers)) {
          const answer = await ask<OpsSagaAnswer>(
            service,
            `/sagas/${encodeURIComponent(id)}`,
            new URLSearchParams(),
            true,
          );
          if (!answer.ok) unreadable.push(`${service} (${answer.reason})`);
          else if (answer.value !== undefined) return answer.value.saga;
        }
        const unread = unreadable.length === 0 ? "" : `; not read: ${unreadable.join(", ")}`;
        throw new FlotillaError("NOT_FOUND", `no saga ${id}${unread}`);
      }),
  };
}

type Remote<T> = { ok: true; value: T | undefined } | { ok: false; reason: string };

function filterQuery(filter: SagaFilter): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(filter)) if (value !== undefined) query[key] = String(value);
  return query;
}

/** Runs `fn` in a span when there is a tracer, recording a failure on it. */
async function spanned<T>(tracer: Tracer | undefined, name: string, fn: (span: Span) => Promise<T>): Promise<T> {
  if (tracer === undefined) return fn(NO_SPAN);
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Records nothing: attributes set without a tracer go nowhere. */
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
