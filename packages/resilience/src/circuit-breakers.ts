/** @module Circuit breakers: one per (service, instance), failing fast while an instance keeps failing. */
import { type Context, FlotillaCodes, FlotillaError, type Middleware } from "@flotilla/core";
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  isIsolatedCircuitError,
  SamplingBreaker,
} from "cockatiel";
import { countsAgainstInstance } from "./failures.js";

export type BreakerState = "closed" | "open" | "half-open" | "isolated";

export interface BreakerStateChange {
  readonly service: string;
  /** Undefined for a service-wide breaker (calls that named no instance). */
  readonly instance: string | undefined;
  readonly from: BreakerState;
  readonly to: BreakerState;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a breaker (5). Any success resets the count. */
  threshold?: number;
  /** Instead of `threshold`: open when this share of calls (0..1) failed within `windowMs`, given `minimumRps`. */
  ratio?: { threshold: number; windowMs: number; minimumRps?: number };
  /** How long a breaker stays open before one probe call may test the instance (5 s). */
  halfOpenAfterMs?: number;
  /** Which failures count (default: unavailable, timed out, internal/unknown/data loss, but not raised locally). */
  isFailure?: (err: FlotillaError) => boolean;
  onStateChange?: (change: BreakerStateChange) => void;
  /** Breakers kept before closed ones are forgotten (instances come and go) (1000). */
  maxBreakers?: number;
}

/** One breaker as metrics show it. */
export interface BreakerSnapshot {
  readonly service: string;
  /** Undefined for a service-wide breaker. */
  readonly instance: string | undefined;
  readonly state: BreakerState;
}

export interface CircuitBreakers extends Middleware {
  state(service: string, instance?: string): BreakerState;
  /** Every breaker kept now, closed ones included (until `maxBreakers` makes room). */
  snapshot(): BreakerSnapshot[];
  /** Whether a call would fail fast now (open, or probing): pass as `avoid` to core's `loadBalancing`. */
  readonly rejects: (service: string, instance?: string) => boolean;
}

interface Breaker {
  readonly service: string;
  readonly instance: string | undefined;
  readonly policy: CircuitBreakerPolicy;
  state: BreakerState;
  openedAt: number;
  /** The latest caller's logger: a transition is logged with the trace of a call that saw it. */
  log: Context["log"] | undefined;
}

/** Every set of breakers made here, so a middleware list can be searched for them. */
const made = new WeakSet<Middleware>();

/** Whether this middleware is a set of circuit breakers (made by `circuitBreakers()`). */
export function isCircuitBreakers(middleware: Middleware): middleware is CircuitBreakers {
  return made.has(middleware);
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Isolated]: "isolated",
};

/**
 * Wraps each call in the breaker of its target: `(service, call.instance)` when an instance is chosen
 * (so place it after `loadBalancing`), else the service's. While open, calls fail fast with
 * FLOTILLA_CIRCUIT_OPEN (UNAVAILABLE, retryable); after `halfOpenAfterMs` one probe goes through and
 * its outcome closes or reopens the breaker. Built on cockatiel's circuit breaker.
 */
export function circuitBreakers(options: CircuitBreakerOptions = {}): CircuitBreakers {
  const halfOpenAfterMs = options.halfOpenAfterMs ?? 5_000;
  const maxBreakers = options.maxBreakers ?? 1_000;
  const isFailure = options.isFailure ?? countsAgainstInstance;
  const breakers = new Map<string, Breaker>();
  const keyOf = (service: string, instance: string | undefined) => `${service}\u0000${instance ?? ""}`;

  function create(service: string, instance: string | undefined): Breaker {
    const counter = options.ratio
      ? new SamplingBreaker({
          threshold: options.ratio.threshold,
          duration: options.ratio.windowMs,
          ...(options.ratio.minimumRps === undefined ? {} : { minimumRps: options.ratio.minimumRps }),
        })
      : new ConsecutiveBreaker(options.threshold ?? 5);
    const policy = circuitBreaker(
      handleWhen((err) => isFailure(FlotillaError.from(err))),
      { halfOpenAfter: halfOpenAfterMs, breaker: counter },
    );
    const breaker: Breaker = { service, instance, policy, state: "closed", openedAt: 0, log: undefined };
    policy.onStateChange((next) => {
      const change = { service, instance, from: breaker.state, to: STATES[next] };
      breaker.state = change.to;
      if (change.to === "open") breaker.openedAt = Date.now();
      const log = breaker.log;
      if (change.to === "open") log?.warn(change, "circuit opened");
      else log?.info(change, `circuit ${change.to}`);
      options.onStateChange?.(change);
    });
    return breaker;
  }

  function get(service: string, instance: string | undefined): Breaker {
    const key = keyOf(service, instance);
    let breaker = breakers.get(key);
    if (breaker === undefined) {
      if (breakers.size >= maxBreakers) {
        for (const [k, b] of breakers) if (b.state === "closed") breakers.delete(k);
      }
      breaker = create(service, instance);
      breakers.set(key, breaker);
    }
    return breaker;
  }

  const breakersMiddleware: CircuitBreakers = {
    name: "circuit-breakers",
    async call(call, next) {
      const breaker = get(call.ref.service, call.instance);
      breaker.log = call.ctx.log;
      try {
        return await breaker.policy.execute(() => next());
      } catch (err) {
        if (!isBrokenCircuitError(err) && !isIsolatedCircuitError(err)) throw err;
        const target = breaker.instance ?? breaker.service;
        throw FlotillaError.of(FlotillaCodes.CIRCUIT_OPEN, `circuit for ${target} is open`, {
          details: { service: breaker.service, instance: breaker.instance },
        });
      }
    },
    state: (service, instance) => breakers.get(keyOf(service, instance))?.state ?? "closed",
    snapshot: () => [...breakers.values()].map(({ service, instance, state }) => ({ service, instance, state })),
    rejects: (service, instance) => {
      const breaker = breakers.get(keyOf(service, instance));
      if (breaker === undefined) return false;
      if (breaker.state === "open") return Date.now() - breaker.openedAt < halfOpenAfterMs;
      return breaker.state !== "closed";
    },
  };
  made.add(breakersMiddleware);
  return breakersMiddleware;
}
