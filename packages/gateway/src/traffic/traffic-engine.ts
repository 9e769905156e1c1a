/** @module The gateway's traffic engine: each request's variant per split, recorded on its span, header and metrics. */
import type { TrafficMetrics } from "@flotilla/telemetry";
import { EdgeExchange } from "../edge-exchange.js";
import type { Exchange } from "../policy.js";
import { ComparisonReport } from "./comparison-report.js";
import type { TrafficState } from "./traffic-state.js";

/** The header every answer a split chose for carries: the variant that served it. */
export const VARIANT_HEADER = "flotilla-variant";

/** The cookie an anonymous client may carry so sticky choices follow it rather than its address. */
export const CLIENT_ID_COOKIE = "flotilla-client-id";

export class TrafficEngine {
  /** One choice per split and request: a route calling a service twice reaches one version. */
  private readonly chosen = new WeakMap<Exchange, Map<string, string>>();
  private readonly reports = new Map<string, ComparisonReport>();

  constructor(
    readonly state: TrafficState,
    private readonly metrics: TrafficMetrics | undefined,
    keepDifferences: number,
  ) {
    for (const view of state.views()) {
      if (view.kind === "route") this.reports.set(view.name, new ComparisonReport(view.name, keepDifferences));
    }
  }

  report(split: string): ComparisonReport | undefined {
    return this.reports.get(split);
  }

  /** The variant of `split` for this request, chosen once (matches, then weights), and recorded. */
  variantFor(split: string, ex: Exchange): string {
    let byExchange = this.chosen.get(ex);
    const known = byExchange?.get(split);
    if (known !== undefined) return known;
    const { variant } = this.state.choose(split, {
      headers: ex.request.headers,
      caller: ex.caller,
      clientId: clientIdOf(ex),
    });
    if (byExchange === undefined) {
      byExchange = new Map();
      this.chosen.set(ex, byExchange);
    }
    byExchange.set(split, variant);
    ex.setHeader(VARIANT_HEADER, variant);
    if (ex instanceof EdgeExchange) {
      ex.ids.span?.setAttributes({ "flotilla.split": split, "flotilla.variant": variant });
    }
    this.metrics?.chosen(split, variant);
    return variant;
  }

  /**
   * The version prefixes a call to `service` prefers for this request: the chosen variant's, then the
   * default's (a variant with no ready instance falls back to it). Undefined when no split covers the service.
   */
  versionsFor(service: string, ex: Exchange): readonly string[] | undefined {
    const name = this.state.splitOfService(service);
    if (name === undefined) return undefined;
    const split = this.state.split(name);
    if (split?.kind !== "version") return undefined;
    const variant = this.variantFor(name, ex);
    const wanted = split.variants[variant] as string;
    const fallback = split.variants[split.default] as string;
    return wanted === fallback ? [wanted] : [wanted, fallback];
  }

  compared(split: string, outcome: string): void {
    this.metrics?.compared(split, outcome);
  }
}

/** Who an anonymous client is for sticky choices: its `flotilla-client-id` cookie, else its address. */
function clientIdOf(ex: Exchange): string | undefined {
  const cookie = ex.request.headers.cookie;
  if (typeof cookie === "string" && cookie.includes(CLIENT_ID_COOKIE)) {
    for (const part of cookie.split(";")) {
      const [name, value] = part.trim().split("=", 2);
      if (name === CLIENT_ID_COOKIE && value) return `client:${value}`;
    }
  }
  return ex.request.remoteAddress === undefined ? undefined : `address:${ex.request.remoteAddress}`;
}
