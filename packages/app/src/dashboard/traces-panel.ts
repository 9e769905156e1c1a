/**
 * @module The Traces panel: search the kept traces (`GET /_flotilla/api/traces?…`), read one whole with its
 * critical path (`GET /_flotilla/api/traces/:id`), the newest on the `traces` topic, and spans from other
 * processes and tests received over OTLP/HTTP JSON at `POST /_flotilla/v1/traces`, into the context's store.
 */
import { FlotillaError } from "@flotilla/core";
import { DASHBOARD_PATH, type Panel } from "@flotilla/dashboard";
import {
  criticalPath,
  isTraceId,
  MAX_TRACES_LIMIT,
  receiveOtlp,
  type SpanRecord,
  type TraceStore,
  type TraceSummary,
  traceQueryFromParams,
} from "@flotilla/telemetry";
import { type Span, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { DashboardContext } from "./dashboard-context.js";

/** Where exporters send spans to the dashboard: its OTLP/HTTP traces endpoint, behind the dashboard's access check. */
export const DASHBOARD_OTLP_PATH = `${DASHBOARD_PATH}/v1/traces`;

/** How many of the newest traces the `traces` topic sends, and how often. */
const LIVE_TRACES = 50;
const LIVE_EVERY_MS = 2_000;

export interface TraceSearch {
  readonly traces: TraceSummary[];
  /** Every service with a span in the newest traces the store keeps (up to 1,000), sorted: the search form's choices. */
  readonly services: string[];
}

export interface TraceRead {
  readonly traceId: string;
  /** By start time. */
  readonly spans: SpanRecord[];
  /** The ids of the spans on the critical path, by start time (see criticalPath). */
  readonly criticalPath: string[];
  readonly services: string[];
}

export function tracesPanel(ctx: DashboardContext): Panel | undefined {
  const store = ctx.traces;
  if (store === undefined) return undefined;
  const { tracer } = ctx;
  return {
    id: "traces",
    title: "Traces",
    routes: [
      {
        method: "GET",
        path: "",
        handle: (req) => inSpan(tracer, "dashboard.traces.search", (span) => search(store, req.query, span)),
      },
      {
        method: "GET",
        path: "/:id",
        handle: (req) => inSpan(tracer, "dashboard.traces.read", (span) => read(store, req.params.id ?? "", span)),
      },
    ],
    topics: [
      {
        name: "traces",
        everyMs: LIVE_EVERY_MS,
        read: async () => ({ traces: await store.traces({ limit: LIVE_TRACES }) }),
      },
    ],
    install(app, panel) {
      app.register(async (scope) => {
        // The body is read by the receiver, raw: it may be gzipped, and its limits are the receiver's own.
        scope.removeAllContentTypeParsers();
        scope.addContentTypeParser("*", (_req, _payload, done) => done(null));
        scope.post(DASHBOARD_OTLP_PATH, async (req, reply) => {
          await panel.authorize(req, reply);
          const answer = await inSpan(tracer, "dashboard.traces.receive", async (span) => {
            const received = await receiveOtlp({ headers: req.headers, body: req.raw }, store);
            span?.setAttribute("flotilla.dashboard.spans", received.spans);
            return received;
          });
          reply.code(answer.status).header("content-type", "application/json").header("cache-control", "no-store");
          if (answer.close) reply.header("connection", "close");
          return reply.send(answer.body);
        });
      });
    },
  };
}

async function search(store: TraceStore, params: URLSearchParams, span: Span | undefined): Promise<TraceSearch> {
  const query = traceQueryFromParams(params);
  const [traces, recent] = await Promise.all([store.traces(query), store.traces({ limit: MAX_TRACES_LIMIT })]);
  const services = new Set<string>();
  for (const trace of recent) for (const service of trace.services) services.add(service);
  span?.setAttribute("flotilla.dashboard.traces", traces.length);
  return { traces, services: [...services].sort() };
}

async function read(store: TraceStore, id: string, span: Span | undefined): Promise<TraceRead> {
  const traceId = id.toLowerCase();
  if (!isTraceId(traceId)) {
    throw new FlotillaError("INVALID_ARGUMENT", `not a trace id: "${id}" (32 hex characters, not all zero)`);
  }
  span?.setAttribute("flotilla.dashboard.trace", traceId);
  const spans = await store.trace(traceId);
  if (spans.length === 0) throw new FlotillaError("NOT_FOUND", `no span of trace ${traceId} is kept`);
  span?.setAttribute("flotilla.dashboard.spans", spans.length);
  return {
    traceId,
    spans,
    criticalPath: criticalPath(spans),
    services: [...new Set(spans.map((s) => s.service))].sort(),
  };
}

/** Runs `work` in a span `name` of the context's tracer, when there is one; a failure marks the span. */
async function inSpan<T>(
  tracer: Tracer | undefined,
  name: string,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (tracer === undefined) return work(undefined);
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
