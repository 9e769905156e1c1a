/** @module An upstream: its targets, the balancer that picks one per attempt, and the active health checks. */
import type { Host } from "@flotilla/core";
import type { ResolvedUpstream } from "./upstream-options.js";
import { type BreakerState, UpstreamTarget } from "./upstream-target.js";

/** One target as metrics and the readiness of a proxy see it. */
export interface TargetSnapshot {
  readonly upstream: string;
  readonly target: string;
  readonly healthy: boolean;
  readonly breaker: BreakerState;
  readonly inFlight: number;
}

export class Upstream {
  readonly name: string;
  readonly targets: readonly UpstreamTarget[];
  /** Where the next tie-break starts, so equally loaded targets take turns. */
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly checking = new Set<UpstreamTarget>();

  constructor(
    readonly options: ResolvedUpstream,
    log: Host["log"],
  ) {
    this.name = options.name;
    this.targets = options.targets.map((url) => new UpstreamTarget(url, options, log));
  }

  /**
   * The available target (healthy, breaker not refusing) with the fewest requests in flight, skipping
   * those already tried for this request; ties go round robin. Least-pending rather than plain round
   * robin: a target that slows down (a legacy app in a GC pause, a slow query) gets fewer new requests
   * at once, instead of an equal share that queues behind the slow ones.
   */
  pick(tried: ReadonlySet<UpstreamTarget>): UpstreamTarget | undefined {
    const now = Date.now();
    const n = this.targets.length;
    const start = this.next;
    this.next = (start + 1) % n;
    let best: UpstreamTarget | undefined;
    for (let i = 0; i < n; i++) {
      const target = this.targets[(start + i) % n] as UpstreamTarget;
      if (tried.has(target) || !target.available(now)) continue;
      if (best === undefined || target.inFlight < best.inFlight) best = target;
    }
    return best;
  }

  /** Starts the active health checks, if the upstream has any; the timer never keeps the process alive. */
  start(): void {
    const hc = this.options.healthCheck;
    if (hc === undefined || this.timer !== undefined) return;
    this.timer = setInterval(() => {
      for (const target of this.targets) void this.check(target);
    }, hc.intervalMs);
    this.timer.unref();
  }

  /** One check of one target; a check still running when the next is due is not doubled. */
  async check(target: UpstreamTarget): Promise<void> {
    const hc = this.options.healthCheck;
    if (hc === undefined || this.checking.has(target)) return;
    this.checking.add(target);
    try {
      const answer = await target.pool.request({
        method: "GET",
        path: hc.path,
        headers: { host: target.host, "user-agent": "flotilla-gateway-health-check" },
        headersTimeout: hc.timeoutMs,
        bodyTimeout: hc.timeoutMs,
      });
      await answer.body.dump();
      if (answer.statusCode >= 200 && answer.statusCode < 300) target.passed();
      else target.unreachable(`health check answered ${answer.statusCode}`);
    } catch (err) {
      target.unreachable(`health check failed: ${(err as Error).message}`);
    } finally {
      this.checking.delete(target);
    }
  }

  snapshot(): TargetSnapshot[] {
    return this.targets.map((t) => ({
      upstream: this.name,
      target: t.origin,
      healthy: t.healthy,
      breaker: t.breakerState,
      inFlight: t.inFlight,
    }));
  }

  /** Stops the checks and closes every connection, after the requests in flight. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.targets.map((t) => t.pool.close()));
  }
}
