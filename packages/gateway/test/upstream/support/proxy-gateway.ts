/** @module A gateway with proxy routes in front of test upstreams, recording spans and upstream metrics. */
import { LightTracer, type SpanRecord } from "@flotilla/telemetry";
import type { ProxyRoute, TargetSnapshot, UpstreamMetrics, UpstreamOptions } from "../../../src/index.js";
import { type ExtraOptions, startGateway, type TestGateway } from "../../support/harness.js";

export interface ProxyGateway extends TestGateway {
  /** Every span the gateway ended. */
  readonly spans: SpanRecord[];
  /** Every attempt the upstream metrics recorded: `upstream target outcome`. */
  readonly attempts: string[];
  /** The targets' health and breaker states, as metrics read them. */
  targets(): readonly TargetSnapshot[];
}

export async function startProxyGateway(
  upstreams: Record<string, UpstreamOptions>,
  proxies: ProxyRoute[],
  extra: ExtraOptions & Parameters<typeof startGateway>[0] = {},
): Promise<ProxyGateway> {
  const spans: SpanRecord[] = [];
  const attempts: string[] = [];
  let read: () => readonly TargetSnapshot[] = () => [];
  const metrics: UpstreamMetrics = {
    attempted: (upstream, target, outcome) => void attempts.push(`${upstream} ${target} ${outcome}`),
    watch: (reader) => {
      read = reader;
    },
  };
  const tracer = new LightTracer({ service: "gateway", sink: { onEnd: (span) => void spans.push(span) } });
  const t = await startGateway({ routes: [], upstreams, proxies, upstreamMetrics: metrics, tracer, ...extra });
  return { ...t, spans, attempts, targets: () => read() };
}

/** Polls `check` until it holds (health checks and breakers change state on their own clock). */
export async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
