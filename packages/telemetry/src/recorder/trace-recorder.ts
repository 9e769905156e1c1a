/**
 * @module One process's tracing: the light tracer, and where its finished spans go — the embedded
 * trace store (every span), an OTLP/HTTP endpoint configured by the standard `OTEL_*` variables (sampled
 * spans), and in split mode the Flotilla process that assembles traces (`FLOTILLA_TRACE_COLLECTOR`,
 * every span, so its store can make the same tail decision with the whole trace in view).
 */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import type { Sampler, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { SpanRecord } from "../traces/span-record.js";
import type { TraceStore } from "../traces/trace-store.js";
import { envPositiveInt } from "./env-settings.js";
import { ExportQueue, type ExportStats } from "./export-queue.js";
import { LightTracer } from "./light-tracer.js";
import type { SpanSink } from "./recording-span.js";
import { samplerFromEnv } from "./sampler-from-env.js";

export interface TraceRecorderOptions {
  /** The service a span belongs to when no `flotilla.service` attribute says (an app's name, `gateway`). */
  readonly service: string;
  readonly instance?: string;
  /** The embedded store every finished span is added to. */
  readonly store?: TraceStore;
  /** The OTLP/HTTP JSON endpoint of the Flotilla process that assembles this system's traces. */
  readonly collector?: string;
  /** Where `OTEL_*` settings are read from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides `OTEL_TRACES_SAMPLER`. */
  readonly sampler?: Sampler;
  /** Overrides the OTLP exporter the `OTEL_*` variables would configure (sampled spans go to it). */
  readonly exporter?: SpanExporter;
  /** Where failed exports are reported (a warning for the first, then one per hundred). */
  readonly log?: { warn(obj: object, msg: string): void };
}

export interface TraceRecorderStats {
  readonly recorded: number;
  readonly otlp?: ExportStats;
  readonly collector?: ExportStats;
}

export interface TraceRecorder {
  readonly tracer: LightTracer;
  readonly store: TraceStore | undefined;
  /** True when sampled spans are exported over OTLP. */
  readonly exporting: boolean;
  stats(): TraceRecorderStats;
  /** Sends what the exporters hold now. */
  flush(): Promise<void>;
  /** Flushes, then closes the exporters and the store. */
  close(): Promise<void>;
}

export function traceRecorder(options: TraceRecorderOptions): TraceRecorder {
  const env = options.env ?? process.env;
  const otlpExporter = options.exporter ?? otlpExporterFromEnv(env);
  const onFailure = (to: string) => (error: Error | undefined, failedSpans: number) =>
    options.log?.warn({ err: error, failedSpans, to }, "spans could not be exported");
  const otlp =
    otlpExporter &&
    new ExportQueue({ exporter: otlpExporter, onlySampled: true, onFailure: onFailure("otlp"), ...batchFromEnv(env) });
  const collector =
    options.collector === undefined
      ? undefined
      : new ExportQueue({
          exporter: new OTLPTraceExporter({ url: options.collector }),
          onlySampled: false,
          onFailure: onFailure(options.collector),
          delayMs: 500,
          maxQueue: 8192,
        });
  const store = options.store;
  let recorded = 0;
  const sink: SpanSink = {
    onEnd(span: SpanRecord) {
      recorded++;
      store?.add([span]);
      otlp?.onEnd(span);
      collector?.onEnd(span);
    },
  };
  const tracer = new LightTracer({
    service: options.service,
    sink,
    sampler: options.sampler ?? samplerFromEnv(env),
    ...(options.instance ? { instance: options.instance } : {}),
  });
  return {
    tracer,
    store,
    exporting: otlp !== undefined,
    stats: () => ({
      recorded,
      ...(otlp ? { otlp: otlp.stats() } : {}),
      ...(collector ? { collector: collector.stats() } : {}),
    }),
    async flush() {
      await Promise.all([otlp?.flush(), collector?.flush()]);
    },
    async close() {
      await Promise.all([otlp?.close(), collector?.close()]);
      await store?.close();
    },
  };
}

/**
 * The OTLP/HTTP exporter the standard variables configure, or none: export is on when an endpoint is
 * set or `OTEL_TRACES_EXPORTER` names `otlp`, and off with `OTEL_TRACES_EXPORTER=none` or
 * `OTEL_SDK_DISABLED=true`. Endpoint, headers and timeout are read from `env`, not only `process.env`.
 */
export function otlpExporterFromEnv(env: NodeJS.ProcessEnv): SpanExporter | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const names = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== "");
  if (names.includes("none")) return undefined;
  const unsupported = names.filter((n) => n !== "otlp");
  if (unsupported.length > 0) {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `OTEL_TRACES_EXPORTER "${unsupported[0]}" is not supported; use otlp or none`,
    );
  }
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!tracesEndpoint && !endpoint && !names.includes("otlp")) return undefined;
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  if (protocol !== undefined && protocol !== "" && protocol !== "http/json") {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `OTEL_EXPORTER_OTLP_PROTOCOL "${protocol}" is not supported; Flotilla exports traces as http/json`,
    );
  }
  const url =
    tracesEndpoint || (endpoint ? `${endpoint.replace(/\/+$/, "")}/v1/traces` : "http://localhost:4318/v1/traces");
  try {
    new URL(url);
  } catch {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `the OTLP traces endpoint "${url}" is not a URL`);
  }
  const timeout = (env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT)?.trim();
  const timeoutMillis = timeout ? Number(timeout) : undefined;
  if (timeoutMillis !== undefined && (!Number.isInteger(timeoutMillis) || timeoutMillis <= 0)) {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `OTEL_EXPORTER_OTLP_TIMEOUT must be a positive integer, not "${timeout}"`,
    );
  }
  const headers = {
    ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  return new OTLPTraceExporter({ url, headers, ...(timeoutMillis ? { timeoutMillis } : {}) });
}

/** `key=value,key2=value2`, values percent-encoded, as the OTLP exporter specification writes headers. */
function parseHeaders(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        "OTEL_EXPORTER_OTLP_HEADERS holds a value that is not percent-encoded",
      );
    }
  }
  return out;
}

function batchFromEnv(env: NodeJS.ProcessEnv): { delayMs?: number; maxQueue?: number; maxBatch?: number } {
  const out: { delayMs?: number; maxQueue?: number; maxBatch?: number } = {};
  const delayMs = envPositiveInt(env, "OTEL_BSP_SCHEDULE_DELAY");
  const maxQueue = envPositiveInt(env, "OTEL_BSP_MAX_QUEUE_SIZE");
  const maxBatch = envPositiveInt(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
  if (delayMs !== undefined) out.delayMs = delayMs;
  if (maxQueue !== undefined) out.maxQueue = maxQueue;
  if (maxBatch !== undefined) out.maxBatch = maxBatch;
  return out;
}
