/** @module The flags of `npm run bench` (bench/README.md describes each suite's), their defaults and the help text. */
import { parseArgs } from "node:util";
import { CACHE_EDGE_CASES } from "../cache-edge/suite.js";
import { CONFIGS, IMPLS } from "../calls/cases.js";
import { ACCESS_LOG, EDGE_CASES, TOKEN_CACHE } from "../edge/cases.js";
import { FAILOVER_CASES } from "../failover/suite.js";
import { caseName, LIVE_AUDIENCES, LIVE_CASES } from "../live/cases.js";
import { EVENT_IMPLS, RAW_FEATURES } from "../nats/event-cases.js";
import { RPC_EXTRA_IMPLS, RPC_IMPLS } from "../nats/rpc-cases.js";
import { LATENCY_CASES } from "../outbox/suite.js";
import { DBS, WRITE_IMPLS } from "../outbox/write-cases.js";
import { PROXY_CASES } from "../proxy/suite.js";
import { REPLAY_CASES } from "../replay/suite.js";
import { ROUTE_TARGETS } from "../routes/suite.js";
import { SAGA_IMPLS } from "../saga/cases.js";
import { CHECKOUT_MODES } from "../saga/suite.js";

export const SUITES = [
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
export type Suite = (typeof SUITES)[number];

/** The flags of `npm run bench`, parsed; `--help` prints them and exits. */
export const { values } = parseArgs({
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
