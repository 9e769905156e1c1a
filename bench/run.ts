/**
 * @module Entry point of `npm run bench`: runs the in-process call benchmark and, behind `--suites`,
 * the distributed ones over a real nats-server (see bench/README.md for the cases and flags), and
 * prints Markdown tables with ratios.
 */
import { cpus } from "node:os";
import { CACHE_EDGE_CASES, type CacheEdgeCase, renderCacheEdge, runCacheEdgeSuite } from "./cache-edge/suite.js";
import { CONFIGS, type Config, IMPLS, type Impl } from "./calls/cases.js";
import { goals, render, runSuite } from "./calls/suite.js";
import { ACCESS_LOG, type AccessLog, EDGE_CASES, type EdgeCase, TOKEN_CACHE, type TokenCache } from "./edge/cases.js";
import { edgeGoals, renderEdge, runEdgeSuite } from "./edge/suite.js";
import { FAILOVER_CASES, type FailoverCase, renderFailover, runFailoverSuite } from "./failover/suite.js";
import { renderGrpc, runGrpcSuite } from "./grpc/suite.js";
import { SUITES, type Suite, values } from "./lib/run-options.js";
import { LIVE_AUDIENCES, type LiveAudience, parseCases } from "./live/cases.js";
import { renderLive } from "./live/report.js";
import { runLiveSuite } from "./live/suite.js";
import { isEventImpl } from "./nats/event-cases.js";
import { eventGoals, renderEvents, runEventSuite } from "./nats/event-suite.js";
import { RPC_EXTRA_IMPLS, RPC_IMPLS, type RpcImpl } from "./nats/rpc-cases.js";
import { renderRpc, rpcGoals, runRpcSuite } from "./nats/rpc-suite.js";
import { startBenchServer } from "./nats/server.js";
import { LATENCY_CASES, type LatencyCase, outboxGoals, renderOutbox, runOutboxSuite } from "./outbox/suite.js";
import { DBS, type Db, WRITE_IMPLS, type WriteImpl } from "./outbox/write-cases.js";
import { PROXY_CASES, type ProxyCase, renderProxy, runProxySuite } from "./proxy/suite.js";
import { REPLAY_CASES, type ReplayCase, renderReplay, replayGoals, runReplaySuite } from "./replay/suite.js";
import { ROUTE_TARGETS, type RouteTarget, renderRoutes, runRoutesSuite } from "./routes/suite.js";
import { SAGA_IMPLS, type SagaImpl } from "./saga/cases.js";
import { renderSagas, sagaGoals } from "./saga/report.js";
import { CHECKOUT_MODES, type CheckoutMode, runSagaSuite } from "./saga/suite.js";

const list = <T extends string>(value: string, allowed: readonly T[], what: string): T[] => {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`unknown ${what} "${item}" (known: ${allowed.join(", ")})`);
  }
  return items as T[];
};

const eventImpls = (value: string): string[] => {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!isEventImpl(item)) throw new Error(`unknown event impl "${item}" (known: raw, flotilla, raw+FEATURE…)`);
  }
  return items;
};

const suites = list<Suite>(values.suites, SUITES, "suite");
const timeMs = values.quick ? 1000 : Number(values.time);
const warmupMs = values.quick ? 300 : Number(values.warmup);
const repeat = Math.max(1, Number(values.repeat));
const numbers = (value: string) =>
  value
    .split(",")
    .map(Number)
    .filter((n) => n >= 1);
const json: Record<string, unknown> = {};

console.log(`node ${process.version}, ${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}`);
if (suites.some((s) => !["edge", "saga", "live", "grpc", "proxy", "cache-edge", "routes"].includes(s))) {
  console.log(`${timeMs} ms per case after ${warmupMs} ms warm-up, best of ${repeat}, one child process per case side`);
}
console.log("");

if (suites.includes("calls")) {
  const options = {
    impls: list<Impl>(values.impls, IMPLS, "impl"),
    configs: list<Config>(values.configs, CONFIGS, "config"),
    concurrencies: numbers(values.concurrency),
    timeMs,
    warmupMs,
    repeat,
  };
  console.log("## In-process action calls\n");
  const results = await runSuite(options, (line) => console.error(line));
  console.log(render(results));
  for (const line of goals(results)) console.log(line);
  console.log("");
  json.calls = results;
}

if (suites.includes("rpc") || suites.includes("events")) {
  const server = await startBenchServer();
  console.log(`${server.version}, JetStream on, ${server.url} (file store in ${server.handle.storeDir})\n`);
  try {
    if (suites.includes("rpc")) {
      console.log("## Action calls over NATS\n");
      const results = await runRpcSuite(
        {
          impls: list<RpcImpl>(values["rpc-impls"], [...RPC_IMPLS, ...RPC_EXTRA_IMPLS], "rpc impl"),
          inFlight: numbers(values["rpc-in-flight"]),
          timeMs,
          warmupMs,
          repeat,
          url: server.url,
          natsPid: server.handle.pid,
        },
        (line) => console.error(line),
      );
      console.log(renderRpc(results));
      for (const line of rpcGoals(results)) console.log(line);
      console.log("");
      json.rpc = results;
    }
    if (suites.includes("events")) {
      console.log("## Durable events over JetStream\n");
      const results = await runEventSuite(
        {
          impls: eventImpls(values["event-impls"]),
          inFlight: numbers(values["event-in-flight"]),
          timeMs,
          warmupMs,
          repeat,
          url: server.url,
          natsPid: server.handle.pid,
          reset: () => server.reset(),
        },
        (line) => console.error(line),
      );
      console.log(renderEvents(results));
      for (const line of eventGoals(results)) console.log(line);
      console.log("");
      json.events = results;
    }
  } finally {
    await server.stop();
  }
}

if (suites.includes("outbox")) {
  console.log("## Transactional outbox\n");
  const started = performance.now();
  const results = await runOutboxSuite(
    {
      dbs: list<Db>(values["outbox-dbs"], DBS, "outbox db"),
      writeImpls: list<WriteImpl>(values["outbox-write"], WRITE_IMPLS, "outbox write case"),
      latency: list<LatencyCase>(values["outbox-latency"], LATENCY_CASES, "outbox latency case"),
      timeMs,
      warmupMs,
      repeat,
      rates: numbers(values["outbox-rate"]),
      latencyTimeMs: Number(values["outbox-latency-time"]),
      latencyWarmupMs: Number(values["outbox-latency-warmup"]),
      pgDurable: values["outbox-pg-durable"],
    },
    (line) => console.error(line),
  );
  console.log(renderOutbox(results));
  for (const line of outboxGoals(results)) console.log(line);
  console.log(`\nThe outbox suite took ${((performance.now() - started) / 1000).toFixed(0)} s.\n`);
  json.outbox = results;
}

if (suites.includes("replay")) {
  console.log("## Projection replay (SQLite, event journal)\n");
  const results = await runReplaySuite(
    {
      events: Number(values["replay-events"]),
      cases: list<ReplayCase>(values["replay-cases"], REPLAY_CASES, "replay case"),
      repeat,
      rate: Number(values["replay-rate"]),
      ...(values["replay-batch"] === undefined ? {} : { batch: Number(values["replay-batch"]) }),
    },
    (line) => console.error(line),
  );
  console.log(renderReplay(results));
  for (const line of replayGoals(results)) console.log(line);
  console.log("");
  json.replay = results;
}

if (suites.includes("failover")) {
  console.log("## Failover of the split shop over NATS\n");
  const results = await runFailoverSuite(
    { cases: list<FailoverCase>(values["failover-cases"], FAILOVER_CASES, "failover case"), repeat },
    (line) => console.error(line),
  );
  console.log(renderFailover(results));
  json.failover = results;
}

if (suites.includes("edge")) {
  console.log("## The edge: GET /api/v1/products/:id over HTTP\n");
  const accessLog = list<AccessLog>(values["edge-access-log"], ACCESS_LOG, "--edge-access-log value");
  if (accessLog.length !== 1) throw new Error("--edge-access-log takes one value: on or off");
  const options = {
    cases: list<EdgeCase>(values["edge-cases"], EDGE_CASES, "edge case"),
    tokenCache: list<TokenCache>(values["edge-token-cache"], TOKEN_CACHE, "--edge-token-cache value"),
    connections: Number(values["edge-connections"]),
    warmupSec: Number(values["edge-warmup"]),
    durationSec: Number(values["edge-duration"]),
    accessLog: accessLog[0] === "on",
    rateLimit: values["edge-rate-limit"],
    repeat,
  };
  const results = await runEdgeSuite(options, (line) => console.error(line));
  console.log(renderEdge(results, options));
  console.log("");
  for (const line of edgeGoals(results)) console.log(line);
  console.log("");
  json.edge = results;
}

if (suites.includes("grpc")) {
  console.log("## One action over HTTP and over gRPC: catalog.getProduct through the shop's gateway\n");
  const options = {
    concurrency: Number(values["grpc-concurrency"]),
    warmupSec: Number(values["grpc-warmup"]),
    durationSec: Number(values["grpc-duration"]),
    rateLimit: "1000000/60",
  };
  const results = await runGrpcSuite(options, (line) => console.error(line));
  console.log(renderGrpc(results));
  console.log("");
  json.grpc = results;
}

if (suites.includes("proxy")) {
  console.log("## HTTP upstreams: the legacy monolith behind the gateway's proxy route and behind nginx\n");
  const options = {
    cases: list<ProxyCase>(values["proxy-cases"], PROXY_CASES, "proxy case"),
    connections: Number(values["edge-connections"]),
    warmupSec: Number(values["edge-warmup"]),
    durationSec: Number(values["edge-duration"]),
    repeat,
  };
  const results = await runProxySuite(options, (line) => console.error(line));
  console.log(renderProxy(results, options));
  console.log("");
  json.proxy = results;
}

if (suites.includes("cache-edge")) {
  console.log("## A cached product: the gateway's response cache against nginx's proxy_cache and a static file\n");
  const options = {
    cases: list<CacheEdgeCase>(values["cache-edge-cases"], CACHE_EDGE_CASES, "cache-edge case"),
    connections: Number(values["edge-connections"]),
    warmupSec: Number(values["edge-warmup"]),
    durationSec: Number(values["edge-duration"]),
    repeat,
  };
  const results = await runCacheEdgeSuite(options, (line) => console.error(line));
  console.log(renderCacheEdge(results, options));
  console.log("");
  json.cacheEdge = results;
}

if (suites.includes("routes")) {
  console.log("## Route count: one gateway with 1 to 1,000 routes\n");
  const options = {
    counts: numbers(values["routes-counts"]),
    targets: list<RouteTarget>(values["routes-targets"], ROUTE_TARGETS, "routes target"),
    connections: Number(values["edge-connections"]),
    warmupSec: Number(values["edge-warmup"]),
    durationSec: Number(values["edge-duration"]),
    repeat,
  };
  const results = await runRoutesSuite(options, (line) => console.error(line));
  console.log(renderRoutes(results, options));
  console.log("");
  json.routes = results;
}

if (suites.includes("saga")) {
  console.log("## Durable sagas\n");
  const started = performance.now();
  const results = await runSagaSuite(
    {
      impls: list<SagaImpl>(values["saga-impls"], SAGA_IMPLS, "saga impl"),
      inFlight: numbers(values["saga-in-flight"]),
      sweep: numbers(values["saga-sweep"]),
      checkout: list<CheckoutMode>(values["saga-checkout"], CHECKOUT_MODES, "checkout mode"),
      checkoutInFlight: numbers(values["saga-checkout-in-flight"]),
      count: Number(values["saga-count"]),
      checkoutCount: Number(values["saga-checkout-count"]),
      repeat,
    },
    (line) => console.error(line),
  );
  for (const [k, v] of Object.entries(results.servers)) console.log(`${k}: ${v}`);
  console.log(`/proc/loadavg: ${results.loadavg.join(" | ")}\n`);
  console.log(renderSagas(results));
  console.log("");
  for (const line of sagaGoals(results)) console.log(line);
  console.log(`\nThe saga suite took ${((performance.now() - started) / 1000).toFixed(0)} s.\n`);
  json.saga = results;
}

if (suites.includes("live")) {
  console.log("## Live push fan-out\n");
  const audience = list<LiveAudience>(values["live-audience"], LIVE_AUDIENCES, "--live-audience value");
  if (audience.length !== 1) throw new Error("--live-audience takes one value");
  const results = await runLiveSuite(
    {
      cases: parseCases(values["live-cases"]),
      connections: Number(values["live-connections"] ?? (values.quick ? 1_000 : 10_000)),
      clients: Math.max(1, Number(values["live-clients"])),
      audience: audience[0] as LiveAudience,
      warmupRounds: 2,
      rounds: Number(values["live-rounds"] ?? (values.quick ? 5 : 20)),
      gapMs: Number(values["live-gap-ms"]),
      openConcurrency: 64,
      roundTimeoutMs: 30_000,
      ...(values["live-profile"] === undefined ? {} : { profileDir: values["live-profile"] }),
    },
    (line) => console.error(line),
  );
  console.log(renderLive(results));
  console.log("");
  json.live = results;
}

if (values.json) console.log(JSON.stringify(json, null, 2));
