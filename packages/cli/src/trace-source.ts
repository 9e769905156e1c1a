/**
 * @module Where `flotilla trace` and `flotilla traces` read traces: the trace file in the data directory
 * (or one named with `--file`), opened read-only so a running app keeps writing it; or, with `--url`,
 * a running instance's ops port.
 */
import { join, resolve } from "node:path";
import { FlotillaError } from "@flotilla/core";
import { dataDirFrom } from "@flotilla/data/internal";
import {
  type SpanRecord,
  sqliteTraceStore,
  TRACE_FILE,
  type TraceQuery,
  type TraceSummary,
  traceQueryToParams,
} from "@flotilla/telemetry";
import { UsageError } from "./options.js";

export interface TraceSource {
  /** Where the traces are read, for messages. */
  readonly where: string;
  trace(traceId: string): Promise<SpanRecord[]>;
  traces(query: TraceQuery): Promise<TraceSummary[]>;
  close(): Promise<void>;
}

/** Options both commands take. */
export const SOURCE_OPTIONS = {
  url: { type: "string" as const },
  file: { type: "string" as const },
  "data-dir": { type: "string" as const },
  json: { type: "boolean" as const },
  help: { type: "boolean" as const, short: "h" },
};

export function openTraceSource(values: { url?: string; file?: string; "data-dir"?: string }): TraceSource {
  if (values.url !== undefined) {
    if (values.file !== undefined || values["data-dir"] !== undefined) {
      throw new UsageError("--url reads a running instance: it goes without --file and --data-dir");
    }
    return opsPortSource(values.url);
  }
  if (values.file !== undefined && values["data-dir"] !== undefined) {
    throw new UsageError("--file names the trace file: it goes without --data-dir");
  }
  const file = resolve(values.file ?? join(dataDirFrom(values["data-dir"]), TRACE_FILE));
  try {
    const store = sqliteTraceStore({ file, readOnly: true });
    return { where: file, trace: (id) => store.trace(id), traces: (q) => store.traces(q), close: () => store.close() };
  } catch (err) {
    if (err instanceof FlotillaError && err.code === "NOT_FOUND") {
      throw new FlotillaError(
        "NOT_FOUND",
        `no trace file at ${file} (an app run with this data directory writes one; --url asks a running instance)`,
      );
    }
    throw err;
  }
}

function opsPortSource(base: string): TraceSource {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--url must be the ops port's URL, like http://localhost:9464, got "${base}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--url must be an http:// URL, got "${base}"`);
  }
  const root = url.href.replace(/\/+$/, "");
  async function get(path: string): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${root}${path}`, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      const why = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new FlotillaError("UNAVAILABLE", `cannot reach ${root}: ${why}`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new FlotillaError("UNAVAILABLE", `${root}${path} answered ${res.status} with something other than JSON`);
    }
    if (res.status === 400) throw new FlotillaError("INVALID_ARGUMENT", errorOf(body) ?? "bad request");
    return { status: res.status, body };
  }
  const noStore = () =>
    new FlotillaError("NOT_FOUND", `${root} serves no traces (the process there keeps no trace store)`);
  return {
    where: root,
    async trace(traceId) {
      const { status, body } = await get(`/traces/${traceId}`);
      if (status === 404 && errorOf(body)?.startsWith("no trace ")) return [];
      if (status === 404) throw noStore();
      if (status !== 200) throw new FlotillaError("UNAVAILABLE", `${root} answered ${status}: ${errorOf(body)}`);
      return (body as { spans: SpanRecord[] }).spans;
    },
    async traces(query) {
      const params = traceQueryToParams(query).toString();
      const { status, body } = await get(`/traces${params ? `?${params}` : ""}`);
      if (status === 404) throw noStore();
      if (status !== 200) throw new FlotillaError("UNAVAILABLE", `${root} answered ${status}: ${errorOf(body)}`);
      return (body as { traces: TraceSummary[] }).traces;
    },
    close: async () => {},
  };
}

function errorOf(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | null)?.error;
  return typeof error === "string" ? error : undefined;
}
