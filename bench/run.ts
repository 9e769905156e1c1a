/**
 * @module Entry point of `npm run bench`: runs the in-process call benchmark and, behind `--suites`,
 * the distributed ones over a real nats-server (see bench/README.md for the cases and flags), and
 * prints Markdown tables with ratios.
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { CACHE_EDGE_CASES, type CacheEdgeCase, renderCacheEdge, runCacheEdgeSuite } from "./cache-edge/suite.js";
import { CONFIGS, type Config, IMPLS, type Impl } from "./calls/cases.js";
import { goals, render, runSuite } from "./calls/suite.js";
import { ACCESS_LOG, type AccessLog, EDGE_CASES, type EdgeCase, TOKEN_CACHE, type TokenCache } from "./edge/cases.js";
import { edgeGoals, renderEdge, runEdgeSuite } from "./edge/suite.js";
import { FAILOVER_CASES, type FailoverCase, renderFailover, runFailoverSuite } from "./failover/suite.js";
import { renderGrpc, runGrpcSuite } from "./grpc/suite.js";
import { caseName, LIVE_AUDIENCES, LIVE_CASES, type LiveAudience, parseCases } from "./live/cases.js";
import { renderLive } from "./live/report.js";
import { runLiveSuite } from "./live/suite.js";
import { EVENT_IMPLS, isEventImpl, RAW_FEATURES } from "./nats/event-cases.js";
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

const SUITES = [
  "calls",
  "rpc",
  "events",
  "outbox",
  "replay",
  "failover",
  "edge",
  "saga",
  "live",
  "grpc",
  "proxy",
  "cache-edge",
  "routes",
] as const;
type Suite = (typeof SUITES)[number];

const { values } = parseArgs({
  options: {
    time: { type: "string", default: "3000" },
    warmup: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "1,64" },
    configs: { type: "string", default: CONFIGS.join(",") },
    impls: { type: "string", default: IMPLS.join(",") },
    repeat: { type: "string", default: "1" },
    suites: { type: "string", default: "calls" },
    "rpc-impls": { type: "string", default: RPC_IMPLS.join(",") },
    "rpc-in-flight": { type: "string", default: "1,100" },
    "event-impls": { type: "string", default: EVENT_IMPLS.join(",") },
    "event-in-flight": { type: "string", default: "1,100" },
    "outbox-dbs": { type: "string", default: DBS.join(",") },
    "outbox-write": { type: "string", default: WRITE_IMPLS.join(",") },
    "outbox-latency": { type: "string", default: LATENCY_CASES.join(",") },
    "outbox-rate": { type: "string", default: "1000,100" },
    "outbox-latency-time": { type: "string", default: "10000" },
    "outbox-latency-warmup": { type: "string", default: "2000" },
    "outbox-pg-durable": { type: "boolean", default: false },
    "failover-cases": { type: "string", default: FAILOVER_CASES.join(",") },
    "replay-events": { type: "string", default: "100000" },
    "replay-cases": { type: "string", default: REPLAY_CASES.join(",") },
    "replay-rate": { type: "string", default: "100" },
    "replay-batch": { type: "string" },
    "edge-cases": { type: "string", default: EDGE_CASES.join(",") },
    "edge-duration": { type: "string", short: "d", default: "10" },
    "edge-warmup": { type: "string", default: "2" },
    "edge-connections": { type: "string", default: "50" },
    "edge-token-cache": { type: "string", default: "on" },
    "edge-access-log": { type: "string", default: "off" },
    "edge-rate-limit": { type: "string", default: "1000000/60" },
    "grpc-duration": { type: "string", default: "10" },
    "grpc-warmup": { type: "string", default: "2" },
    "grpc-concurrency": { type: "string", default: "50" },
    "proxy-cases": { type: "string", default: PROXY_CASES.join(",") },
    "cache-edge-cases": { type: "string", default: CACHE_EDGE_CASES.join(",") },
    "routes-counts": { type: "string", default: "1,10,100,1000" },
    "routes-targets": { type: "string", default: ROUTE_TARGETS.join(",") },
    "saga-impls": { type: "string", default: SAGA_IMPLS.join(",") },
    "saga-in-flight": { type: "string", default: "1,10,100" },
    "saga-sweep": { type: "string", default: "10,100,1000,10000" },
    "saga-checkout": { type: "string", default: CHECKOUT_MODES.join(",") },
    "saga-checkout-in-flight": { type: "string", default: "1,10" },
    "saga-count": { type: "string", default: "500" },
    "saga-checkout-count": { type: "string", default: "200" },
    "live-connections": { type: "string" },
    "live-cases": { type: "string", default: LIVE_CASES.map(caseName).join(",") },
    "live-audience": { type: "string", default: "everyone" },
    "live-clients": { type: "string", default: "2" },
    "live-rounds": { type: "string" },
    "live-gap-ms": { type: "string", default: "250" },
    "live-profile": { type: "string" },
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(`npm run bench -- [flags]
  --time=MS          measured phase per case (default 3000; calls: the latency phase takes another half)
  --warmup=MS        warm-up per case (default 1000)
  --repeat=N         runs per case, interleaved; the best is reported (default 1)
  --quick            --time=1000 --warmup=300
  --json             print the raw results as JSON after the tables
  --suites=LIST      ${SUITES.join(",")} (default calls); rpc and events start a nats-server
calls (in-process action calls):
  --concurrency=LIST 1 = sequential awaited calls, N = batches of N concurrent calls (default 1,64)
  --configs=LIST     ${CONFIGS.join(",")} (default both)
  --impls=LIST       ${IMPLS.join(",")} (default all)
rpc (action calls over NATS, server and client in separate processes):
  --rpc-impls=LIST   ${RPC_IMPLS.join(",")} (default), also ${RPC_EXTRA_IMPLS.join(",")}
  --rpc-in-flight=LIST  calls kept in flight: 1 = sequential (default 1,100)
events (durable events over JetStream, producer and consumer in separate processes):
  --event-impls=LIST ${EVENT_IMPLS.join(",")} (default both), or raw with Flotilla's choices added to
                     see what each costs, e.g. raw+ackack (${Object.keys(RAW_FEATURES).join(", ")})
  --event-in-flight=LIST  publishes awaiting their PubAck at once: 1 = each awaited (default 1,100)
outbox (transactional outbox; starts PostgreSQL, and a nats-server for the nats case):
  --outbox-dbs=LIST  ${DBS.join(",")} (default both): databases of the write-cost cases
  --outbox-write=LIST  ${WRITE_IMPLS.join(",")} (default all; empty: none)
  --outbox-latency=LIST  ${LATENCY_CASES.join(",")} (default both; empty: none): commit → handler cases
  --outbox-rate=LIST events per second in the latency cases, each case at each rate (default 1000,100)
  --outbox-latency-time=MS  measured phase of a latency case (default 10000)
  --outbox-latency-warmup=MS  its warm-up, at the same rate (default 2000)
  --outbox-pg-durable  PostgreSQL with fsync and synchronous_commit on (default: off, as in the tests)
failover (the split shop over a real nats-server, failures under load; --repeat = rounds):
  --failover-cases=LIST  ${FAILOVER_CASES.join(",")} (default both): NATS restarted, one of two instances SIGKILLed
replay (flotilla replay of the shop's catalog.sales from the SQLite event journal):
  --replay-events=N  events in the history (default 100000)
  --replay-cases=LIST  ${REPLAY_CASES.join(",")} (default all), the app idle; --repeat applies
  --replay-rate=N    orders per second the shop places during a replay under load (default 100; 0: no such case)
  --replay-batch=N   the replay's --batch (default: the command's)
edge (GET /api/v1/products/:id under autocannon: the shop embedded and over NATS, nginx and fast-gateway
in front of a plain fastify service, and that service directly; one case at a time):
  --edge-cases=LIST  ${EDGE_CASES.join(",")} (default all)
  -d, --edge-duration=S  measured seconds per case (default 10)
  --edge-warmup=S    warm-up seconds per case (default 2)
  --edge-connections=N  autocannon connections (default 50; pipelining 1)
  --edge-token-cache=LIST  ${TOKEN_CACHE.join(",")}: the Flotilla cases once per value, as FLOTILLA_TOKEN_CACHE (default on)
  --edge-access-log=${ACCESS_LOG.join("|")}  the shop's per-request log line (FLOTILLA_LOG_LEVEL info, to a file) and
                     nginx's access log (buffered); default off (FLOTILLA_LOG_LEVEL warn, access_log off)
  --edge-rate-limit=R  FLOTILLA_RATE_LIMIT of the Flotilla processes (default 1000000/60)
grpc (the shop's catalog.getProduct through one embedded gateway, over HTTP with autocannon and over gRPC
with @grpc/grpc-js clients in another process; FLOTILLA_RATE_LIMIT 1000000/60):
  --grpc-duration=S  measured seconds per protocol (default 10)
  --grpc-warmup=S    warm-up seconds per protocol (default 2)
  --grpc-concurrency=N  connections (HTTP) and calls in flight (gRPC) (default 50)
proxy (GET /products/:id/reviews of the legacy monolith: directly, behind nginx, behind the gateway's proxy route;
the --edge-duration, --edge-warmup and --edge-connections flags apply):
  --proxy-cases=LIST  ${PROXY_CASES.join(",")} (default all)
cache-edge (the shop's cached GET /api/v1/products/:id: the gateway's cache, nginx proxy_cache in front of it,
nginx serving the same bytes from a file; the --edge-duration, --edge-warmup and --edge-connections flags apply):
  --cache-edge-cases=LIST  ${CACHE_EDGE_CASES.join(",")} (default all)
routes (one gateway with N routes over memory://, a trivial action; the --edge-duration, --edge-warmup and
--edge-connections flags apply):
  --routes-counts=LIST  route counts, each in a gateway of its own (default 1,10,100,1000)
  --routes-targets=LIST  ${ROUTE_TARGETS.join(",")} (default both): the one fixed route, every GET route shuffled
saga (durable sagas; starts PostgreSQL, a nats-server and restate-server; --repeat applies to the peer table):
  --saga-impls=LIST  ${SAGA_IMPLS.join(",")} (default all): the four-step saga with compensation
  --saga-in-flight=LIST  sagas in flight of the peer table (default 1,10,100)
  --saga-sweep=LIST  sagas in flight of the Flotilla embedded sweep (default 10,100,1000,10000; empty: none)
  --saga-checkout=LIST  ${CHECKOUT_MODES.join(",")} (default both; empty: none): the shop's checkout over HTTP
  --saga-checkout-in-flight=LIST  checkouts in flight (default 1,10)
  --saga-count=N     timed sagas per case at least (default 500; twice the window when that is more)
  --saga-checkout-count=N  timed checkouts per level at least (default 200)
live (live push fan-out: one event to every open connection; server and clients in processes of their own):
  --live-connections=N  connections held open (default 10000; 1000 with --quick)
  --live-cases=LIST  ${LIVE_CASES.map(caseName).join(",")} (default all)
  --live-audience=A  ${LIVE_AUDIENCES.join("|")}: how the Flotilla case reaches every connection (default everyone)
  --live-clients=N   client processes sharing the connections (default 2)
  --live-rounds=N    measured events, after 2 warm-up ones (default 20; 5 with --quick)
  --live-gap-ms=MS   pause between one event's last delivery and the next event (default 250)
  --live-profile=DIR  profile each server (CPU over the events, heap over the opening) into DIR`);
  process.exit(0);
}

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
