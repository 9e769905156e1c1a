/**
 * @module The ops port's saga routes: `GET /sagas?status=&type=&limit=&updatedBefore=&service=` (summaries
 * and counts of this process's saga services) and `GET /sagas/<id>?service=` (one saga with its journal,
 * without its input or outputs: see saga-readers.ts). A dashboard in another process reads them.
 */
import { FlotillaError } from "@flotilla/core";
import type { SagaCount, SagaSummary } from "@flotilla/saga";
import { newestFirst, type SagaReader, type SagaView, sagaFilterFromParams } from "./saga-readers.js";

export interface OpsSagaList {
  readonly sagas: Array<SagaSummary & { service: string }>;
  readonly counts: Array<SagaCount & { service: string }>;
}

export interface OpsSagaAnswer {
  readonly saga: SagaView & { service: string };
}

export const SAGAS_PATH = "/sagas";

/** Answers a request under `/sagas` as a status and a JSON body. */
export async function answerSagas(
  readers: readonly SagaReader[],
  path: string,
  search: URLSearchParams,
): Promise<{ status: number; body: unknown }> {
  const asked = search.get("service") || undefined;
  const here = readers.filter((r) => asked === undefined || r.service === asked);
  if (here.length === 0) {
    return { status: 404, body: { error: `no sagas here${asked === undefined ? "" : ` for ${asked}`}` } };
  }
  try {
    if (path === SAGAS_PATH) return { status: 200, body: await list(here, search) };
    const id = decodeURIComponent(path.slice(SAGAS_PATH.length + 1));
    for (const reader of here) {
      const saga = await reader.get(id);
      if (saga !== undefined) return { status: 200, body: { saga: { ...saga, service: reader.service } } };
    }
    return { status: 404, body: { error: `no saga ${id}` } };
  } catch (err) {
    const invalid = err instanceof FlotillaError && err.status === "INVALID_ARGUMENT";
    return { status: invalid ? 400 : 500, body: { error: err instanceof Error ? err.message : String(err) } };
  }
}

async function list(readers: readonly SagaReader[], search: URLSearchParams): Promise<OpsSagaList> {
  const filter = sagaFilterFromParams(search);
  const read = await Promise.all(
    readers.map(async (r) => {
      const [sagas, counts] = await Promise.all([r.list(filter), r.counts()]);
      return {
        sagas: sagas.map((s) => ({ ...s, service: r.service })),
        counts: counts.map((c) => ({ ...c, service: r.service })),
      };
    }),
  );
  return {
    sagas: newestFirst(
      read.flatMap((r) => r.sagas),
      filter.limit,
    ),
    counts: read.flatMap((r) => r.counts),
  };
}
