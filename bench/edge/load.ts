/**
 * @module The edge benchmark's load: autocannon (programmatic API) in the suite's process, never in a
 * server's. A warm-up run, then the measured run on fresh connections; the latency percentiles come from
 * every response's own time (autocannon's histogram keeps whole milliseconds only).
 */
import autocannon, { type Result } from "autocannon";

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  warmupSec: number;
  durationSec: number;
  /** Paths each connection requests in turn (on the url's origin) instead of the url's own path. */
  paths?: readonly string[];
  /** Called between the warm-up and the measured run (e.g. to read the servers' CPU time). */
  beforeMeasure?: () => void;
}

export interface LoadResult {
  /** autocannon's mean of its per-second request counts. */
  reqPerSec: number;
  /** Responses in the measured run. */
  responses: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  /** The measured run's own wall-clock length, in seconds. */
  seconds: number;
}

function run(o: LoadOptions, durationSec: number, onTime?: (ms: number) => void): Promise<Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.url,
        connections: o.connections,
        pipelining: 1,
        duration: durationSec,
        headers: o.headers,
        ...(o.paths === undefined ? {} : { requests: o.paths.map((path) => ({ path })) }),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    if (onTime) instance.on("response", (_client: unknown, _status: number, _bytes: number, ms: number) => onTime(ms));
  });
}

export async function load(o: LoadOptions): Promise<LoadResult> {
  if (o.warmupSec > 0) await run(o, o.warmupSec);
  let times = new Float64Array(1 << 20);
  let n = 0;
  o.beforeMeasure?.();
  const started = performance.now();
  const result = await run(o, o.durationSec, (ms) => {
    if (n === times.length) {
      const bigger = new Float64Array(times.length * 2);
      bigger.set(times);
      times = bigger;
    }
    times[n++] = ms;
  });
  const seconds = (performance.now() - started) / 1000;
  const sorted = times.subarray(0, n).sort();
  const pct = (q: number) => (n === 0 ? Number.NaN : (sorted[Math.min(n - 1, Math.floor(q * n))] as number));
  return {
    reqPerSec: result.requests.mean,
    responses: n,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    seconds,
  };
}
