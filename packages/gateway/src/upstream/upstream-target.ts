/** @module One target of an upstream: its keep-alive connection pool, its health and its circuit breaker. */
import { FlotillaError, type Host } from "@flotilla/core";
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
} from "cockatiel";
import { Pool } from "undici";
import type { ResolvedUpstream } from "./upstream-options.js";

export type BreakerState = "closed" | "open" | "half-open";

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Isolated]: "open",
};

/** Thrown by `UpstreamTarget.run` when the target's breaker refuses the attempt: nothing was sent. */
export class CircuitOpen extends Error {}

/** What an attempt ends with, as the breaker judges it: a 5xx answer counts as a failure. */
interface Answer {
  readonly statusCode: number;
}

export class UpstreamTarget {
  /** `http://host:port`, as metrics and spans name it. */
  readonly origin: string;
  /** `host:port`, sent as `Host`. */
  readonly host: string;
  readonly pool: Pool;
  /** Requests sent here whose answer has not fully arrived: the balancer's load measure. */
  inFlight = 0;
  /** Out of rotation after failed checks or requests; back in after passed checks. */
  healthy = true;
  private failures = 0;
  private passes = 0;
  private readonly breaker: CircuitBreakerPolicy | undefined;
  private openedAt = 0;

  constructor(
    url: URL,
    private readonly upstream: ResolvedUpstream,
    private readonly log: Host["log"],
  ) {
    this.origin = url.origin;
    this.host = url.host;
    this.pool = new Pool(url.origin, {
      connections: upstream.connections,
      connect: { timeout: upstream.connectTimeoutMs },
      maxHeaderSize: upstream.maxHeaderBytes,
      // Shorter than the keep-alive of common servers (Node's 5 s), so a reused socket is rarely one the target just closed.
      keepAliveTimeout: 4_000,
    });
    const cb = upstream.circuitBreaker;
    if (cb !== undefined) {
      this.breaker = circuitBreaker(
        handleWhen(isTargetFailure).orWhenResult((r) => (r as Answer).statusCode >= 500),
        { halfOpenAfter: cb.halfOpenAfterMs, breaker: new ConsecutiveBreaker(cb.threshold) },
      );
      this.breaker.onStateChange((state) => {
        if (state === CircuitState.Open) this.openedAt = Date.now();
        const fields = { upstream: upstream.name, target: this.origin, state: STATES[state] };
        if (state === CircuitState.Open) this.log.warn(fields, "upstream circuit opened");
        else this.log.info(fields, `upstream circuit ${STATES[state]}`);
      });
    }
  }

  get breakerState(): BreakerState {
    return this.breaker === undefined ? "closed" : STATES[this.breaker.state];
  }

  /** Healthy, and its breaker lets a request through (closed, or open long enough that one may probe). */
  available(now: number): boolean {
    if (!this.healthy || this.breaker === undefined) return this.healthy;
    const state = this.breaker.state;
    if (state === CircuitState.Closed) return true;
    if (state === CircuitState.HalfOpen) return false;
    return now - this.openedAt >= (this.upstream.circuitBreaker?.halfOpenAfterMs ?? 0);
  }

  /** Runs one attempt through the breaker; throws CircuitOpen when the breaker refuses it. */
  async run<T extends Answer>(attempt: () => Promise<T>): Promise<T> {
    if (this.breaker === undefined) return attempt();
    try {
      return await this.breaker.execute(attempt);
    } catch (err) {
      if (isBrokenCircuitError(err)) throw new CircuitOpen(`circuit for ${this.origin} is open`);
      throw err;
    }
  }

  /** A request or a check reached the target and got an answer. */
  reached(): void {
    if (this.healthy) this.failures = 0;
  }

  /**
   * A request or a check could not get an answer. With health checks, enough of these in a row take the
   * target out until checks pass again; without, only the breaker reacts (nothing would bring it back).
   */
  unreachable(reason: string): void {
    const hc = this.upstream.healthCheck;
    this.passes = 0;
    if (hc === undefined || !this.healthy || ++this.failures < hc.unhealthyAfter) return;
    this.healthy = false;
    this.log.warn({ upstream: this.upstream.name, target: this.origin, reason }, "upstream target unhealthy");
  }

  /** An active check passed. */
  passed(): void {
    if (this.healthy) {
      this.failures = 0;
      return;
    }
    if (++this.passes < (this.upstream.healthCheck?.healthyAfter ?? 1)) return;
    this.healthy = true;
    this.failures = 0;
    this.passes = 0;
    this.log.info({ upstream: this.upstream.name, target: this.origin }, "upstream target healthy");
  }
}

/**
 * Whether an attempt's error is the target's doing. The client leaving, its body over the limit (a
 * FlotillaError raised here) and a breaker's refusal say nothing about the target.
 */
function isTargetFailure(err: Error): boolean {
  return !(err instanceof CircuitOpen) && !(err instanceof FlotillaError) && !isClientAbort(err);
}

/** An attempt ended because the client left. */
export function isClientAbort(err: unknown): boolean {
  return (
    (err as { name?: unknown } | null)?.name === "AbortError" || (err as { code?: unknown })?.code === "UND_ERR_ABORTED"
  );
}
