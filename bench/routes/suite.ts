/**
 * @module The route-count benchmark: one gateway with 1, 10, 100, 1,000 … routes, loaded on one fixed
 * route and, from 10 routes on, on every GET route in a shuffled order. Each count in a gateway process
 * of its own, one case at a time, under the edge benchmark's load generator; printed with the loss
 * against the 1-route gateway in throughput and in the gateway's CPU time per request.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "../edge/load.js";
import { startWorker } from "../edge/processes.js";
import { table } from "../lib/report.js";
import { perOp, snapshot } from "../nats/cpu.js";
import { MEASURED, routeTable, shuffledGetPaths } from "./route-table.js";

export const ROUTE_TARGETS = ["fixed", "random"] as const;
export type RouteTarget = (typeof ROUTE_TARGETS)[number];

/** The most a route table may lose against one route, in throughput. */
export const ROUTES_GOAL_LOSS_PCT = 5;

export interface RoutesOptions {
  counts: readonly number[];
  targets: readonly RouteTarget[];
  connections: number;
  warmupSec: number;
  durationSec: number;
  repeat: number;
}

export interface RoutesResult {
  routes: number;
  target: RouteTarget;
  /** GET paths the load cycled through (1 for the fixed route). */
  paths: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  /** The gateway process's CPU µs per response. */
  cpuUs: number;
  /** createGateway + listen, in the worker. */
  setupMs: number;
  /** /proc/loadavg's 1-minute figure before and after the case. */
  load: [number, number];
}

interface Case {
  routes: number;
  target: RouteTarget;
}

/** Every count with the fixed route; with more than one route, the random run too. */
function casesOf(o: RoutesOptions): Case[] {
  return o.counts.flatMap((routes) =>
    o.targets.filter((target) => target === "fixed" || routes > 1).map((target) => ({ routes, target })),
  );
}

export async function runRoutesSuite(o: RoutesOptions, log: (line: string) => void): Promise<RoutesResult[]> {
  const cases = casesOf(o);
  const best = new Map<string, RoutesResult>();
  const key = (c: Case) => `${c.routes} ${c.target}`;
  for (let round = 0; round < o.repeat; round++) {
    for (const c of cases) {
      const result = await runCase(c, o);
      log(
        `routes ${c.routes} ${c.target}: ${result.reqPerSec.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(2)} ms, ${result.cpuUs.toFixed(1)} µs CPU/req`,
      );
      const previous = best.get(key(c));
      if (previous === undefined || result.reqPerSec > previous.reqPerSec) best.set(key(c), result);
    }
  }
  return cases.map((c) => best.get(key(c)) as RoutesResult);
}

async function runCase(c: Case, o: RoutesOptions): Promise<RoutesResult> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-routes-bench-"));
  const gateway = startWorker("gateway", "../routes/gateway-worker.ts", ["--routes", `${c.routes}`], {
    logFile: join(dir, "gateway.log"),
  });
  try {
    const ready = await gateway.ready;
    const url = String(ready.url);
    const paths = c.target === "fixed" ? [MEASURED.sample] : shuffledGetPaths(routeTable(c.routes));
    await expectAnswers(url, paths);
    let before: Record<string, number> = {};
    const pids = { gateway: gateway.pid };
    const loadBefore = loadAverage();
    const result = await load({
      url,
      paths,
      headers: {},
      connections: o.connections,
      warmupSec: o.warmupSec,
      durationSec: o.durationSec,
      beforeMeasure: () => {
        before = snapshot(pids);
      },
    });
    return {
      ...c,
      paths: paths.length,
      reqPerSec: result.reqPerSec,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      failed: result.non2xx + result.errors + result.timeouts,
      cpuUs: perOp(before, snapshot(pids), result.responses).gateway as number,
      setupMs: Number(ready.setupMs),
      load: [loadBefore, loadAverage()],
    };
  } catch (err) {
    throw new Error(`routes ${c.routes} ${c.target} failed: ${err instanceof Error ? err.message : String(err)}
--- gateway (${gateway.logFile}) ---
${gateway.tail()}`);
  } finally {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every path the load will request answers 200 `{"ok":true}` before the load starts. */
async function expectAnswers(url: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const res = await fetch(`${url}${path}`);
    const body = await res.text();
    if (res.status !== 200 || body !== '{"ok":true}') throw new Error(`GET ${path} answered ${res.status} ${body}`);
  }
}

function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

/** Loss against the 1-route gateway's fixed-route run, in percent (positive: slower). */
function loss(value: number, base: number | undefined, higherIsBetter: boolean): string {
  if (base === undefined || base === 0) return "–";
  const pct = higherIsBetter ? (1 - value / base) * 100 : (value / base - 1) * 100;
  return `${pct >= 0 ? "" : "−"}${Math.abs(pct).toFixed(1)}%`;
}

export function renderRoutes(results: readonly RoutesResult[], o: RoutesOptions): string {
  const base = results.find((r) => r.routes === Math.min(...o.counts) && r.target === "fixed");
  const rows = results.map((r) => [
    `${r.routes}`,
    r.target === "fixed" ? `GET ${MEASURED.path}` : `${r.paths} GET routes, shuffled`,
    r.reqPerSec.toFixed(0),
    loss(r.reqPerSec, base?.reqPerSec, true),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.cpuUs.toFixed(1),
    loss(r.cpuUs, base?.cpuUs, false),
    r.setupMs.toFixed(0),
    `${r.load[0].toFixed(2)} → ${r.load[1].toFixed(2)}`,
    `${r.failed}`,
  ]);
  const worst = results
    .filter((r) => r !== base && r.routes === Math.max(...o.counts))
    .map((r) => (base === undefined ? Number.NaN : (1 - r.reqPerSec / base.reqPerSec) * 100));
  return [
    `createGateway over memory://, one trivial action behind every route, no policies, tracing, metrics or access log; ` +
      `${o.connections} connections, ${o.durationSec} s measured after ${o.warmupSec} s warm-up, best of ${o.repeat}`,
    "",
    table(
      [
        "routes",
        "requests",
        "req/s",
        "loss vs 1",
        "p50 ms",
        "p99 ms",
        "gateway CPU µs/req",
        "CPU vs 1",
        "setup ms",
        "load avg",
        "failed",
      ],
      rows,
    ),
    "",
    ...worst.map(
      (pct) =>
        `Goal: throughput loss at ${Math.max(...o.counts)} routes ≤ ${ROUTES_GOAL_LOSS_PCT}%: ${pct.toFixed(1)}% — ${
          pct <= ROUTES_GOAL_LOSS_PCT ? "met" : "NOT met"
        }`,
    ),
  ].join("\n");
}
