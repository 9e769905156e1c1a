/**
 * @module The failover benchmark: how fast the split shop (`flotilla start` processes over a real
 * nats-server) answers and recovers when something fails under load. The figures the distributed-mode
 * tests (packages/cli/test/split-mode.test.ts) used to assert as wall-clock limits are measured here and
 * printed; nothing is asserted. Each round builds its world with the tests' own `Cluster` and tears it down.
 *
 * - `outage`: catalog, orders and a gateway, two client loops reading products (20 ms apart); nats-server
 *   is restarted with 2 s of downtime. Figures: how long after the broker was back the first request
 *   succeeded again, and the slowest answer of the whole run (the test only checks that none hung).
 * - `kill`: two catalog instances and a gateway whose route has a 1 s deadline (the tests' ledger app),
 *   eight client loops; one instance is SIGKILLed. Figures: the requests lost with it, how long they took
 *   to be answered (the route's deadline is the floor), and the latest start of a lost request after the
 *   victim's exit.
 */
import { demoProducts } from "../../examples/shop/src/services/catalog/seed.js";
import { FAST_ROUTE_TIMEOUT_MS } from "../../packages/cli/test/fixtures/ledger-app.js";
import {
  type Answer,
  Cluster,
  errorCode,
  http,
  loops,
  natsOutageUnderLoad,
  until,
  withTimeout,
} from "../../packages/cli/test/split-helpers.js";
import { table } from "../lib/report.js";

export const FAILOVER_CASES = ["outage", "kill"] as const;
export type FailoverCase = (typeof FAILOVER_CASES)[number];

const LEDGER_APP = "packages/cli/test/fixtures/ledger-app.ts";
const ids = demoProducts.map((p) => p.id);

export interface OutageResult {
  kind: "outage";
  /** nats-server's restart: stop, 2 s down, start until ready. */
  restartMs: number;
  /** From the broker being back to the end of the first request that succeeded after it. */
  recoveryMs: number;
  slowestMs: number;
  requests: number;
  failures: number;
  codes: Record<string, number>;
}

export interface KillResult {
  kind: "kill";
  requests: number;
  /** Requests that failed: lost with the victim. */
  failures: number;
  /** Their answer times (start to answer), the route's deadline being 1 s. */
  failureP50Ms: number;
  failureMaxMs: number;
  /** The latest start of a failed request, relative to the victim's exit (negative: before it). */
  lastFailedStartMs: number | null;
  /** From the kill signal to the victim's exit as this process saw it. */
  exitMs: number;
}

export type FailoverResult = OutageResult | KillResult;

export interface FailoverSuiteOptions {
  cases: readonly FailoverCase[];
  repeat: number;
}

async function outage(cluster: Cluster): Promise<OutageResult> {
  const { results, downAt, upAt, recoveredAt } = await natsOutageUnderLoad(cluster, 30_000);
  const failures = results.filter((r) => r.status !== 200);
  const codes: Record<string, number> = {};
  for (const f of failures) {
    const key = `${f.status} ${errorCode(f) ?? "?"}`;
    codes[key] = (codes[key] ?? 0) + 1;
  }
  return {
    kind: "outage",
    restartMs: upAt - downAt,
    recoveryMs: recoveredAt - upAt,
    slowestMs: Math.max(...results.map((r) => r.endedAt - r.startedAt)),
    requests: results.length,
    failures: failures.length,
    codes,
  };
}

async function kill(cluster: Cluster): Promise<KillResult> {
  await cluster.startNats();
  // The two instances share the catalog's database, as instances of one service must.
  const db = { FLOTILLA_DB_CATALOG: `sqlite:${cluster.tempDir("flotilla-catalog-db-")}` };
  const [victim, , gateway] = await Promise.all([
    cluster.start("catalog-victim", { app: LEDGER_APP, services: "catalog", ops: true, env: db }),
    cluster.start("catalog-survivor", { app: LEDGER_APP, services: "catalog", ops: true, env: db }),
    cluster.start("gateway", { app: LEDGER_APP, services: "none", gateway: true }),
  ]);
  const get = (n: number) => http(`${gateway.url}/test/products/${ids[n % ids.length]}`, {}, 5_000);
  await until(async () => (await get(0)).status === 200, 15_000, "the gateway to route");
  const results: Answer[] = [];
  let stop = false;
  const load = loops(8, async () => {
    if (stop) return false;
    results.push(await get(results.length));
    return true;
  });
  let killedAt = 0;
  let exitedAt = 0;
  try {
    await until(() => results.length >= 300, 20_000, "300 requests before the kill");
    killedAt = Date.now();
    await cluster.signal(victim, "SIGKILL", 5_000);
    exitedAt = victim.exitedAt() ?? killedAt;
    await until(() => results.filter((r) => r.startedAt > exitedAt).length >= 300, 20_000, "300 after it");
  } finally {
    stop = true;
    await withTimeout(load, 10_000, "the load loops to end").catch(() => {});
  }
  const failures = results.filter((r) => r.status !== 200);
  const times = failures.map((f) => f.endedAt - f.startedAt).sort((a, b) => a - b);
  return {
    kind: "kill",
    requests: results.length,
    failures: failures.length,
    failureP50Ms: times[Math.floor(times.length / 2)] ?? 0,
    failureMaxMs: times.at(-1) ?? 0,
    lastFailedStartMs: failures.length === 0 ? null : Math.max(...failures.map((f) => f.startedAt)) - exitedAt,
    exitMs: exitedAt - killedAt,
  };
}

export async function runFailoverSuite(
  options: FailoverSuiteOptions,
  log: (line: string) => void,
): Promise<FailoverResult[]> {
  const results: FailoverResult[] = [];
  for (let round = 1; round <= options.repeat; round++) {
    for (const kind of options.cases) {
      const cluster = new Cluster();
      try {
        log(`failover ${kind}, round ${round}/${options.repeat}`);
        results.push(kind === "outage" ? await outage(cluster) : await kill(cluster));
      } catch (err) {
        log(`failover ${kind} failed: ${err instanceof Error ? err.message : String(err)}\n${cluster.dump()}`);
        throw err;
      } finally {
        await cluster.close();
      }
    }
  }
  return results;
}

export function renderFailover(results: readonly FailoverResult[]): string {
  const parts: string[] = [];
  const outages = results.filter((r): r is OutageResult => r.kind === "outage");
  if (outages.length > 0) {
    parts.push(
      "### NATS restarted (2 s down) under load: catalog, orders, gateway\n",
      table(
        [
          "run",
          "restart",
          "first success after",
          "slowest answer",
          "requests",
          "failed",
          "failures by status and code",
        ],
        outages.map((r, i) => [
          `${i + 1}`,
          `${r.restartMs} ms`,
          `${r.recoveryMs} ms`,
          `${r.slowestMs} ms`,
          `${r.requests}`,
          `${r.failures}`,
          Object.entries(r.codes)
            .map(([k, n]) => `${k} ×${n}`)
            .join(", ") || "none",
        ]),
      ),
      "",
    );
  }
  const kills = results.filter((r): r is KillResult => r.kind === "kill");
  if (kills.length > 0) {
    parts.push(
      `### One of two catalog instances SIGKILLed under load (8 loops, route deadline ${FAST_ROUTE_TIMEOUT_MS} ms)\n`,
      table(
        [
          "run",
          "requests",
          "lost",
          "lost answered p50",
          "lost answered max",
          "last lost start vs exit",
          "exit after kill",
        ],
        kills.map((r, i) => [
          `${i + 1}`,
          `${r.requests}`,
          `${r.failures}`,
          `${r.failureP50Ms} ms`,
          `${r.failureMaxMs} ms`,
          r.lastFailedStartMs === null ? "-" : `${r.lastFailedStartMs} ms`,
          `${r.exitMs} ms`,
        ]),
      ),
      "",
    );
  }
  return parts.join("\n");
}
