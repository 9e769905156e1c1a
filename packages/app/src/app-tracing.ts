/**
 * @module An app's tracing as `runApp` sets it up: the recorder, its embedded store (a SQLite file in
 * the data directory by default, so `flotilla trace` finds a trace after the process is gone), the
 * collector it forwards to in split mode, and OTLP export from the standard `OTEL_*` variables.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import {
  memoryTraceStore,
  sqliteTraceStore,
  TRACE_FILE,
  type TraceRecorder,
  type TraceStore,
  traceRecorder,
} from "@flotilla/telemetry";
import { envPositiveInt, envText } from "@flotilla/telemetry/internal";
import type { Sampler, SpanExporter } from "@opentelemetry/sdk-trace-base";

export interface TracingSettings {
  /**
   * Where this process keeps its spans: `file` (`<dataDir>/flotilla.traces.sqlite`, the default),
   * `memory`, or a store of your own. Default from FLOTILLA_TRACES (`file`, `memory`).
   */
  readonly store?: "file" | "memory" | TraceStore;
  /** Bytes the store may hold (FLOTILLA_TRACES_MAX_BYTES; 64 MiB in a file, 16 MiB in memory). */
  readonly maxBytes?: number;
  /** A trace this slow is kept even when head sampling dropped it (FLOTILLA_TRACES_SLOW_MS; 1000). */
  readonly slowMs?: number;
  /**
   * The OTLP/HTTP JSON endpoint of the process that assembles the system's traces (a gateway's ops
   * port `/v1/traces`): every span is sent there too. Default FLOTILLA_TRACE_COLLECTOR.
   */
  readonly collector?: string;
  /** Replaces the OTLP exporter the OTEL_* variables configure. */
  readonly exporter?: SpanExporter;
  /** Replaces the sampler OTEL_TRACES_SAMPLER names. */
  readonly sampler?: Sampler;
  /** Where settings are read from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

export function appTracing(
  settings: TracingSettings,
  where: { app: string; gateway: boolean; dataDir: string; log?: { warn(obj: object, msg: string): void } },
): TraceRecorder {
  const env = settings.env ?? process.env;
  const store = storeFrom(settings, env, where.dataDir);
  const collector = settings.collector ?? envText(env, "FLOTILLA_TRACE_COLLECTOR");
  return traceRecorder({
    service: envText(env, "OTEL_SERVICE_NAME") ?? (where.gateway ? "gateway" : where.app),
    instance: `${hostname()}-${process.pid}`,
    store,
    env,
    ...(where.log ? { log: where.log } : {}),
    ...(collector ? { collector } : {}),
    ...(settings.exporter ? { exporter: settings.exporter } : {}),
    ...(settings.sampler ? { sampler: settings.sampler } : {}),
  });
}

function storeFrom(settings: TracingSettings, env: NodeJS.ProcessEnv, dataDir: string): TraceStore {
  const chosen = settings.store ?? envText(env, "FLOTILLA_TRACES") ?? "file";
  if (typeof chosen !== "string") return chosen;
  const maxBytes = settings.maxBytes ?? envPositiveInt(env, "FLOTILLA_TRACES_MAX_BYTES");
  const slowMs = settings.slowMs ?? envPositiveInt(env, "FLOTILLA_TRACES_SLOW_MS");
  const bounds = { ...(maxBytes ? { maxBytes } : {}), ...(slowMs ? { slowMs } : {}) };
  if (chosen === "memory") return memoryTraceStore(bounds);
  if (chosen === "file") return sqliteTraceStore({ file: join(dataDir, TRACE_FILE), ...bounds });
  throw FlotillaError.of(FlotillaCodes.CONFIG, `FLOTILLA_TRACES must be "file" or "memory", not "${chosen}"`);
}
