/**
 * @module The proxy benchmark: `GET /products/:id/reviews` of the legacy monolith under autocannon,
 * answered by the monolith directly, through nginx, and through the Flotilla gateway's proxy route.
 * One case at a time, each with its own monolith process and database; printed with ratios against
 * nginx and against the monolith alone.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "../edge/load.js";
import { startNginx } from "../edge/nginx.js";
import { startWorker, type Worker } from "../edge/processes.js";
import { ratio, table } from "../lib/report.js";
import { perOp, snapshot } from "../nats/cpu.js";

export const PROXY_CASES = ["direct", "nginx", "flotilla"] as const;
export type ProxyCase = (typeof PROXY_CASES)[number];

const LABELS: Record<ProxyCase, string> = {
  direct: "monolith directly (the floor)",
  nginx: "nginx → monolith",
  flotilla: "Flotilla gateway proxy route → monolith",
};

export const PROXY_PATH = "/products/prod-espresso-machine/reviews";

export interface ProxyOptions {
  cases: readonly ProxyCase[];
  connections: number;
  warmupSec: number;
  durationSec: number;
  repeat: number;
}

export interface ProxyResult {
  case: ProxyCase;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  responses: number;
  non2xx: number;
  errors: number;
  /** CPU µs per response of the proxy's process and the monolith's. */
  cpuUs: Record<string, number>;
  /** /proc/loadavg's 1-minute figure before and after the case: how busy the shared machine was. */
  load: [number, number];
}

export async function runProxySuite(o: ProxyOptions, log: (line: string) => void): Promise<ProxyResult[]> {
  const best = new Map<ProxyCase, ProxyResult>();
  for (let round = 0; round < o.repeat; round++) {
    for (const c of o.cases) {
      const result = await runCase(c, o);
      log(`proxy ${c}: ${result.reqPerSec.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(2)} ms`);
      const previous = best.get(c);
      if (previous === undefined || result.reqPerSec > previous.reqPerSec) best.set(c, result);
    }
  }
  return o.cases.map((c) => best.get(c) as ProxyResult);
}

async function runCase(c: ProxyCase, o: ProxyOptions): Promise<ProxyResult> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-proxy-bench-"));
  const workers: Worker[] = [];
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  try {
    const legacy = startWorker("legacy", "../proxy/legacy-worker.ts", ["--db", join(dir, "reviews.db")], {
      logFile: join(dir, "legacy.log"),
    });
    workers.push(legacy);
    const upstream = String((await legacy.ready).url);
    let url = upstream;
    const pids: Record<string, number | undefined> = { monolith: legacy.pid };
    if (c === "nginx") {
      nginx = await startNginx(Number(new URL(upstream).port), false);
      url = nginx.url;
    } else if (c === "flotilla") {
      const gateway = startWorker(
        "gateway",
        "../proxy/gateway-worker.ts",
        ["--upstream", upstream, "--data-dir", join(dir, "data")],
        { logFile: join(dir, "gateway.log"), env: { FLOTILLA_LOG_LEVEL: "warn" } },
      );
      workers.push(gateway);
      url = String((await gateway.ready).url);
      pids.proxy = gateway.pid;
    }
    let before: Record<string, number> = {};
    const loadBefore = loadAverage();
    const result = await load({
      url: `${url}${PROXY_PATH}`,
      headers: {},
      connections: o.connections,
      warmupSec: o.warmupSec,
      durationSec: o.durationSec,
      beforeMeasure: () => {
        if (nginx !== undefined) pids.proxy = nginx.pids().worker;
        before = snapshot(pids);
      },
    });
    const cpuUs = perOp(before, snapshot(pids), result.responses);
    return { case: c, ...result, cpuUs, load: [loadBefore, loadAverage()] };
  } finally {
    await nginx?.stop();
    for (const w of workers.reverse()) await w.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

export function renderProxy(results: readonly ProxyResult[], o: ProxyOptions): string {
  const of = (c: ProxyCase) => results.find((r) => r.case === c);
  const nginx = of("nginx");
  const direct = of("direct");
  const rows = results.map((r) => [
    LABELS[r.case],
    r.reqPerSec.toFixed(0),
    ratio(r.reqPerSec, nginx?.reqPerSec),
    ratio(r.reqPerSec, direct?.reqPerSec),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    nginx === undefined ? "–" : ratio(r.p99Ms, nginx.p99Ms),
    Number.isFinite(r.cpuUs.proxy) ? (r.cpuUs.proxy as number).toFixed(0) : "–",
    `${r.non2xx + r.errors}`,
    `${r.load[0].toFixed(2)} → ${r.load[1].toFixed(2)}`,
  ]);
  return [
    `GET ${PROXY_PATH}, ${o.connections} connections, ${o.durationSec} s measured after ${o.warmupSec} s warm-up, best of ${o.repeat}`,
    "",
    table(
      [
        "case",
        "req/s",
        "vs nginx",
        "vs direct",
        "p50 ms",
        "p99 ms",
        "p99 vs nginx",
        "proxy CPU µs/req",
        "failed",
        "load avg",
      ],
      rows,
    ),
  ].join("\n");
}
