/** @module An upstream's options: targets, health checks, timeouts, retries and circuit breaking, with their defaults and checks. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";

/** Active health checks: a GET of `path` on each target every `intervalMs`; a 2xx answer is a success. */
export interface HealthCheckOptions {
  path: string;
  /** Time between checks of a target (5 s). */
  intervalMs?: number;
  /** A check answered later than this fails (2 s). */
  timeoutMs?: number;
  /** Consecutive failures (checks, or requests that could not reach the target) that take it out (2). */
  unhealthyAfter?: number;
  /** Consecutive passed checks that bring a target that was out back in (2). */
  healthyAfter?: number;
}

/** A circuit breaker per target: it opens after `threshold` consecutive failed attempts. */
export interface UpstreamBreakerOptions {
  /** Consecutive failures (no answer, a timeout, or a 5xx answer) that open it (5). */
  threshold?: number;
  /** How long it stays open before one request may probe the target (5 s). */
  halfOpenAfterMs?: number;
}

/** A service that is not a Flotilla service, reached over HTTP at one or more equivalent targets. */
export interface UpstreamOptions {
  /** Origins of the upstream's instances, e.g. `["http://10.0.0.5:8081", "http://10.0.0.6:8081"]`. */
  targets: readonly string[];
  /** Active health checks; absent: none, and the circuit breakers alone take failing targets out. */
  healthCheck?: HealthCheckOptions;
  /** Time to establish a connection to a target (2 s). */
  connectTimeoutMs?: number;
  /** Time from sending the request to the answer's headers (30 s); past it the client gets 504. */
  timeoutMs?: number;
  /** Longest pause between two chunks of the answer's body (30 s); past it the answer is cut off. */
  bodyTimeoutMs?: number;
  /** Extra attempts, each on another target, for idempotent requests without a body (1). */
  retries?: number;
  /** Per-target breakers, or `false` for none. */
  circuitBreaker?: UpstreamBreakerOptions | false;
  /** Keep-alive connections per target (32). */
  connections?: number;
  /** Largest answer head accepted from a target, in bytes (16 KiB); a larger one is a 502. */
  maxHeaderBytes?: number;
}

/** An upstream's options with every default filled in, as the gateway keeps them. */
export interface ResolvedUpstream {
  readonly name: string;
  readonly targets: readonly URL[];
  readonly healthCheck: Required<HealthCheckOptions> | undefined;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly retries: number;
  readonly circuitBreaker: Required<UpstreamBreakerOptions> | undefined;
  readonly connections: number;
  readonly maxHeaderBytes: number;
}

export const UPSTREAM_DEFAULTS = Object.freeze({
  connectTimeoutMs: 2_000,
  timeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  retries: 1,
  connections: 32,
  maxHeaderBytes: 16 * 1024,
  healthCheck: { intervalMs: 5_000, timeoutMs: 2_000, unhealthyAfter: 2, healthyAfter: 2 },
  circuitBreaker: { threshold: 5, halfOpenAfterMs: 5_000 },
});

/** Upstream names are environment-variable friendly: `legacy` is overridden by `FLOTILLA_UPSTREAM_LEGACY`. */
const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Checks an upstream's options and fills in defaults; throws FLOTILLA_CONFIG naming the bad option. */
export function resolveUpstream(name: string, options: UpstreamOptions): ResolvedUpstream {
  const fail = (message: string) => FlotillaError.of(FlotillaCodes.CONFIG, `upstream ${name}: ${message}`);
  if (!NAME.test(name)) throw fail("a name is lowercase letters, digits and _, starting with a letter");
  if (options.targets.length === 0) throw fail("needs at least one target");
  const targets = options.targets.map((t) => targetUrl(t, fail));
  const positive = (key: string, value: number | undefined, fallback: number, min = 1): number => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < min) throw fail(`${key} must be an integer of at least ${min}`);
    return value;
  };
  const hc = options.healthCheck;
  if (hc !== undefined && !hc.path.startsWith("/")) throw fail("healthCheck.path must start with /");
  const d = UPSTREAM_DEFAULTS;
  const cb = options.circuitBreaker;
  return Object.freeze({
    name,
    targets,
    healthCheck:
      hc === undefined
        ? undefined
        : {
            path: hc.path,
            intervalMs: positive("healthCheck.intervalMs", hc.intervalMs, d.healthCheck.intervalMs),
            timeoutMs: positive("healthCheck.timeoutMs", hc.timeoutMs, d.healthCheck.timeoutMs),
            unhealthyAfter: positive("healthCheck.unhealthyAfter", hc.unhealthyAfter, d.healthCheck.unhealthyAfter),
            healthyAfter: positive("healthCheck.healthyAfter", hc.healthyAfter, d.healthCheck.healthyAfter),
          },
    connectTimeoutMs: positive("connectTimeoutMs", options.connectTimeoutMs, d.connectTimeoutMs),
    timeoutMs: positive("timeoutMs", options.timeoutMs, d.timeoutMs),
    bodyTimeoutMs: positive("bodyTimeoutMs", options.bodyTimeoutMs, d.bodyTimeoutMs),
    retries: positive("retries", options.retries, d.retries, 0),
    circuitBreaker:
      cb === false
        ? undefined
        : {
            threshold: positive("circuitBreaker.threshold", cb?.threshold, d.circuitBreaker.threshold),
            halfOpenAfterMs: positive(
              "circuitBreaker.halfOpenAfterMs",
              cb?.halfOpenAfterMs,
              d.circuitBreaker.halfOpenAfterMs,
            ),
          },
    connections: positive("connections", options.connections, d.connections),
    maxHeaderBytes: positive("maxHeaderBytes", options.maxHeaderBytes, d.maxHeaderBytes),
  });
}

/** An origin: http or https, a host, an optional port, and nothing else (paths are the proxy route's `rewrite`). */
function targetUrl(text: string, fail: (message: string) => FlotillaError): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fail(`target "${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw fail(`target "${text}" must be http or https`);
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.username !== "") {
    throw fail(`target "${text}" must be an origin (scheme, host and port only)`);
  }
  return url;
}

/** The environment variable that overrides an upstream's targets: `FLOTILLA_UPSTREAM_<NAME>`, comma-separated origins. */
export function upstreamEnvName(name: string): string {
  return `FLOTILLA_UPSTREAM_${name.toUpperCase()}`;
}

/** The upstreams with their targets replaced by those the environment names, where it names any. */
export function upstreamsFromEnv(
  upstreams: Readonly<Record<string, UpstreamOptions>>,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, UpstreamOptions> {
  const out: Record<string, UpstreamOptions> = {};
  for (const [name, options] of Object.entries(upstreams)) {
    const given = env[upstreamEnvName(name)];
    const targets = given
      ?.split(",")
      .map((t) => t.trim())
      .filter((t) => t !== "");
    out[name] = targets === undefined || targets.length === 0 ? options : { ...options, targets };
  }
  return out;
}
