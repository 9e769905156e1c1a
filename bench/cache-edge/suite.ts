/**
 * @module The cache-edge benchmark: the shop's cached `GET /api/v1/products/:id` answered from the
 * gateway's response cache (x-cache: HIT), from nginx's `proxy_cache` in front of the same gateway, and
 * as a static file of the same bytes served by nginx (the floor). One case at a time, each with its own
 * processes, under the edge benchmark's load generator; printed with ratios against both nginx cases.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@flotilla/testing";
import { load } from "../edge/load.js";
import { resolveNginx } from "../edge/nginx.js";
import { startWorker, type Worker } from "../edge/processes.js";
import { ratio, table } from "../lib/report.js";
import { perOp, snapshot } from "../nats/cpu.js";
import { type NginxServer, startNginxServer } from "./nginx-cache.js";

export const CACHE_EDGE_CASES = ["flotilla", "nginx-cache", "nginx-static"] as const;
export type CacheEdgeCase = (typeof CACHE_EDGE_CASES)[number];

const LABELS: Record<CacheEdgeCase, string> = {
  flotilla: "Flotilla gateway, its cache warm (x-cache: HIT)",
  "nginx-cache": "nginx proxy_cache (HIT) → the same gateway",
  "nginx-static": "nginx, a static file of the same bytes (the floor)",
};

export const CACHED_PATH = "/api/v1/products/prod-espresso-machine";
/** The shop caches this route for 60 s; nginx keeps its copy as long. */
const TTL_SEC = 60;

export interface CacheEdgeOptions {
  cases: readonly CacheEdgeCase[];
  connections: number;
  warmupSec: number;
  durationSec: number;
  repeat: number;
}

export interface CacheEdgeResult {
  case: CacheEdgeCase;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  responses: number;
  failed: number;
  /** Bytes of the body every case answered (checked equal before the load). */
  bodyBytes: number;
  /** CPU µs per response of the answering process (`front`) and of the gateway behind nginx. */
  cpuUs: Record<string, number>;
  /** /proc/loadavg's 1-minute figure before and after the case. */
  load: [number, number];
}

export interface CacheEdgeRun {
  results: CacheEdgeResult[];
  /** Cases left out, with why (nginx missing). */
  skipped: string[];
  nginxVersion: string | undefined;
}

export async function runCacheEdgeSuite(o: CacheEdgeOptions, log: (line: string) => void): Promise<CacheEdgeRun> {
  let cases = o.cases;
  const skipped: string[] = [];
  try {
    resolveNginx();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    for (const c of cases.filter((c) => c !== "flotilla")) skipped.push(`${c}: skipped, ${why}`);
    cases = cases.filter((c) => c === "flotilla");
  }
  for (const line of skipped) log(`!!! cache-edge ${line}`);
  const best = new Map<CacheEdgeCase, CacheEdgeResult>();
  let nginxVersion: string | undefined;
  for (let round = 0; round < o.repeat; round++) {
    for (const c of cases) {
      const { result, version } = await runCase(c, o);
      nginxVersion ??= version;
      log(`cache-edge ${c}: ${result.reqPerSec.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(2)} ms`);
      const previous = best.get(c);
      if (previous === undefined || result.reqPerSec > previous.reqPerSec) best.set(c, result);
    }
  }
  return { results: cases.map((c) => best.get(c) as CacheEdgeResult), skipped, nginxVersion };
}

async function runCase(
  c: CacheEdgeCase,
  o: CacheEdgeOptions,
): Promise<{ result: CacheEdgeResult; version: string | undefined }> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-cache-edge-"));
  let shop: Worker | undefined;
  let nginx: NginxServer | undefined;
  try {
    shop = await startShop(dir);
    const gatewayUrl = String((await shop.ready).url);
    // The gateway's own answer, which fills its cache: every case must answer these bytes.
    const expected = await (await fetch(`${gatewayUrl}${CACHED_PATH}`)).text();
    let url = gatewayUrl;
    if (c === "nginx-cache") {
      nginx = await startNginxServer(CACHED_PATH, {
        kind: "cache",
        upstreamPort: Number(new URL(gatewayUrl).port),
        ttlSec: TTL_SEC,
      });
    } else if (c === "nginx-static") {
      await shop.stop();
      shop = undefined;
      nginx = await startNginxServer(CACHED_PATH, { kind: "static", body: expected });
    }
    if (nginx !== undefined) url = nginx.url;
    await expectHit(c, `${url}${CACHED_PATH}`, expected);
    const pids: Record<string, number | undefined> = { front: c === "flotilla" ? shop?.pid : undefined };
    if (c === "nginx-cache") pids.gateway = shop?.pid;
    let before: Record<string, number> = {};
    const loadBefore = loadAverage();
    const result = await load({
      url: `${url}${CACHED_PATH}`,
      headers: {},
      connections: o.connections,
      warmupSec: o.warmupSec,
      durationSec: o.durationSec,
      beforeMeasure: () => {
        if (nginx !== undefined) pids.front = nginx.worker();
        before = snapshot(pids);
      },
    });
    const cpuUs = perOp(before, snapshot(pids), result.responses);
    // Still a hit after the load: the run measured the cache, not a refill.
    await expectHit(c, `${url}${CACHED_PATH}`, expected);
    return {
      result: {
        case: c,
        reqPerSec: result.reqPerSec,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        responses: result.responses,
        failed: result.non2xx + result.errors + result.timeouts,
        bodyBytes: Buffer.byteLength(expected),
        cpuUs,
        load: [loadBefore, loadAverage()],
      },
      version: nginx?.version,
    };
  } catch (err) {
    const logs = shop === undefined ? "" : `\n--- shop (${shop.logFile}) ---\n${shop.tail()}`;
    throw new Error(`cache-edge ${c} failed: ${err instanceof Error ? err.message : String(err)}${logs}`);
  } finally {
    await nginx?.stop();
    await shop?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The shop embedded (`runApp`, as the edge benchmark runs it), its rate limit lifted, logging at warn. */
async function startShop(dir: string): Promise<Worker> {
  const data = join(dir, "data");
  mkdirSync(data);
  return startWorker(
    "shop",
    "shop-worker.ts",
    ["--role", "embedded", "--port", `${await freePort()}`, "--data-dir", data],
    {
      logFile: join(dir, "shop.log"),
      env: { FLOTILLA_LOG_LEVEL: "warn", FLOTILLA_RATE_LIMIT: "1000000/60" },
    },
  );
}

/** Asks twice (the first may fill a cache); the second answer must be `expected`, from the case's cache. */
async function expectHit(c: CacheEdgeCase, url: string, expected: string): Promise<void> {
  await (await fetch(url)).arrayBuffer();
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200 || body !== expected) {
    throw new Error(`${url} answered ${res.status} ${JSON.stringify(body.slice(0, 200))}, not the product`);
  }
  const header = c === "flotilla" ? "x-cache" : c === "nginx-cache" ? "x-nginx-cache" : undefined;
  if (header !== undefined && res.headers.get(header) !== "HIT") {
    throw new Error(`${url}: ${header} is ${res.headers.get(header)}, not HIT`);
  }
}

function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

export function renderCacheEdge(run: CacheEdgeRun, o: CacheEdgeOptions): string {
  const of = (c: CacheEdgeCase) => run.results.find((r) => r.case === c);
  const cache = of("nginx-cache");
  const file = of("nginx-static");
  const us = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n.toFixed(1) : "–");
  const rows = run.results.map((r) => [
    LABELS[r.case],
    r.reqPerSec.toFixed(0),
    ratio(r.reqPerSec, cache?.reqPerSec),
    ratio(r.reqPerSec, file?.reqPerSec),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    cache === undefined ? "–" : ratio(r.p99Ms, cache.p99Ms),
    us(r.cpuUs.front),
    us(r.cpuUs.gateway),
    `${r.load[0].toFixed(2)} → ${r.load[1].toFixed(2)}`,
    `${r.failed}`,
  ]);
  const bytes = run.results[0]?.bodyBytes;
  return [
    `GET ${CACHED_PATH} (${bytes ?? "?"} bytes of JSON), ${o.connections} connections, ${o.durationSec} s measured after ${o.warmupSec} s warm-up, best of ${o.repeat}` +
      (run.nginxVersion === undefined ? "" : `; nginx ${run.nginxVersion}, 1 worker`),
    ...run.skipped.map((s) => `!!! ${s}`),
    "",
    table(
      [
        "case",
        "req/s",
        "vs nginx cache",
        "vs static",
        "p50 ms",
        "p99 ms",
        "p99 vs nginx cache",
        "front CPU µs/req",
        "gateway CPU µs/req",
        "load avg",
        "failed",
      ],
      rows,
    ),
  ].join("\n");
}
