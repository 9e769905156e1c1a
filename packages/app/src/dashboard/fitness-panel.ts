/**
 * @module The Architecture fitness panel: `GET /_flotilla/api/fitness` and the `fitness` topic, the findings
 * of the trace store's recent spans (synchronous chains, chatty pairs, shared databases) and of the
 * registry's instance starts (services deployed together).
 */
import type { Panel } from "@flotilla/dashboard";
import type { DashboardContext } from "./dashboard-context.js";
import { deployedTogether, StartHistory } from "./fitness-deploys.js";
import { chattyPairs, type Finding, type FitnessThresholds, sharedDatabases, syncChains } from "./fitness-findings.js";

/** The spans analysed: the last 15 minutes, at most this many of the newest. */
export const FITNESS_WINDOW_MS = 15 * 60_000;
const FITNESS_SPAN_LIMIT = 20_000;

/** What `GET /_flotilla/api/fitness` answers and each `fitness` event carries. */
export interface FitnessReport {
  readonly generatedAt: string;
  readonly windowMs: number;
  readonly spans: number;
  readonly traces: number;
  /** Whether deploys are assessed: only with a registry, whose instances come and go. */
  readonly deploysAssessed: boolean;
  readonly findings: readonly Finding[];
}

export interface FitnessOptions extends FitnessThresholds {
  readonly windowMs?: number;
  /** How often the `fitness` topic sends the report (5,000 ms). */
  readonly refreshMs?: number;
}

/** The fitness panel of a context that keeps spans; undefined without a trace store. */
export function fitnessPanel(ctx: DashboardContext, options: FitnessOptions = {}): Panel | undefined {
  const { traces, tracer } = ctx;
  if (traces === undefined) return undefined;
  const windowMs = options.windowMs ?? FITNESS_WINDOW_MS;
  const services = () => [...new Set([...(ctx.app?.services.map((s) => s.name) ?? []), ...(ctx.host?.services ?? [])])];
  const history = ctx.registry === undefined ? undefined : new StartHistory(ctx.registry, services);

  const analyse = async (): Promise<FitnessReport> => {
    const nowMs = Date.now();
    const spans = await traces.spans({ sinceMs: nowMs - windowMs, limit: FITNESS_SPAN_LIMIT });
    const findings = [
      ...syncChains(spans, options),
      ...chattyPairs(spans, options),
      ...sharedDatabases(spans),
      ...(history === undefined ? [] : deployedTogether(history.list())),
    ];
    return {
      generatedAt: new Date(nowMs).toISOString(),
      windowMs,
      spans: spans.length,
      traces: new Set(spans.map((s) => s.traceId)).size,
      deploysAssessed: history !== undefined,
      findings,
    };
  };
  const read =
    tracer === undefined
      ? analyse
      : () =>
          tracer.startActiveSpan("dashboard.fitness.analyse", async (span) => {
            try {
              const report = await analyse();
              span.setAttribute("flotilla.dashboard.spans", report.spans);
              span.setAttribute("flotilla.dashboard.findings", report.findings.length);
              return report;
            } finally {
              span.end();
            }
          });
  return {
    id: "fitness",
    title: "Architecture fitness",
    routes: [{ method: "GET", path: "", handle: read }],
    topics: [{ name: "fitness", everyMs: options.refreshMs ?? 5_000, read }],
    close: async () => history?.stop(),
  };
}
