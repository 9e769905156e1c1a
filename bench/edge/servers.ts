/**
 * @module What answers each edge case, started fresh for it and stopped after it (never two cases at
 * once): the shop (embedded, or gateway + services over a nats-server of its own), or the plain service
 * alone, behind nginx or behind fast-gateway.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort, type NatsServerHandle } from "@flotilla/testing";
import { startBenchServer } from "../nats/server.js";
import type { EdgeCase, TokenCache } from "./cases.js";
import { type Nginx, startNginx } from "./nginx.js";
import { startWorker, type Worker } from "./processes.js";

export interface Stack {
  /** Where the load goes. */
  readonly url: string;
  /** Facts worth printing (versions, services per process, transport). */
  readonly notes: string[];
  /** The server-side processes whose CPU time counts, by name. */
  pids(): Record<string, number | undefined>;
  /** The last lines every process logged, for an error report. */
  dump(): string;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** A temp dir of the case's own: logs, data dirs. */
  dir: string;
  tokenCache: TokenCache;
  accessLog: boolean;
  rateLimit: string;
}

/** The environment of every Flotilla process. */
function flotillaEnv(o: StackOptions): Record<string, string> {
  return {
    // info: the gateway's one JSON line per request (to the log file); warn: no access log.
    FLOTILLA_LOG_LEVEL: o.accessLog ? "info" : "warn",
    FLOTILLA_RATE_LIMIT: o.rateLimit,
    FLOTILLA_TOKEN_CACHE: o.tokenCache,
    // One edge key file for the split processes: the gateway signs callers, the services verify them.
    FLOTILLA_EDGE_KEYS: join(o.dir, "edge-keys.json"),
  };
}

export async function startStack(c: EdgeCase, o: StackOptions): Promise<Stack> {
  const started: Worker[] = [];
  let nats: NatsServerHandle | undefined;
  let nginx: Nginx | undefined;
  const worker = (label: string, script: string, args: string[], env?: Record<string, string>) => {
    const w = startWorker(label, script, args, { logFile: join(o.dir, `${label}.log`), ...(env ? { env } : {}) });
    started.push(w);
    return w;
  };
  const dataDir = (name: string) => {
    const d = join(o.dir, `data-${name}`);
    mkdirSync(d);
    return d;
  };
  const stop = async () => {
    // The front first, so the back end sees no requests while it stops.
    for (const w of [...started].reverse()) await w.stop();
    await nginx?.stop();
    await nats?.stop();
  };
  const dump = () =>
    started.map((w) => `--- ${w.label} (pid ${w.pid}, ${w.logFile}) ---\n${w.tail()}`).join("\n") +
    (nats ? `\n--- nats-server ---\n${nats.logs().slice(-2_000)}` : "");
  const pidsOf = (extra: Record<string, number | undefined> = {}) =>
    Object.fromEntries([...started.map((w) => [w.label, w.pid] as const), ...Object.entries(extra)]);

  try {
    if (c === "embedded") {
      const port = await freePort();
      const shop = worker(
        "shop",
        "shop-worker.ts",
        ["--role", "embedded", "--port", `${port}`, "--data-dir", dataDir("shop")],
        flotillaEnv(o),
      );
      const ready = await shop.ready;
      return {
        url: String(ready.url),
        notes: [`shop: ${ready.services} over ${ready.transport}`],
        pids: () => pidsOf(),
        dump,
        stop,
      };
    }
    if (c === "nats") {
      const server = await startBenchServer();
      nats = server.handle;
      const env = flotillaEnv(o);
      const services = worker(
        "services",
        "shop-worker.ts",
        ["--role", "services", "--transport", server.url, "--data-dir", dataDir("services")],
        env,
      );
      const servicesReady = await services.ready;
      const port = await freePort();
      const gateway = worker(
        "gateway",
        "shop-worker.ts",
        ["--role", "gateway", "--port", `${port}`, "--transport", server.url, "--data-dir", dataDir("gateway")],
        env,
      );
      const ready = await gateway.ready;
      return {
        url: String(ready.url),
        notes: [
          `${server.version}, JetStream on`,
          `services process: ${servicesReady.services}; gateway process: no services`,
        ],
        pids: () => pidsOf({ "nats-server": server.handle.pid }),
        dump,
        stop,
      };
    }
    const service = worker("service", "plain-service.ts", ["--port", `${await freePort()}`]);
    const serviceUrl = String((await service.ready).url);
    if (c === "direct") return { url: serviceUrl, notes: [], pids: () => pidsOf(), dump, stop };
    if (c === "nginx") {
      nginx = await startNginx(Number(new URL(serviceUrl).port), o.accessLog);
      const n = nginx;
      return {
        url: n.url,
        notes: [
          `nginx ${n.version}, 1 worker, upstream keepalive 64, access log ${o.accessLog ? "buffered (64k, 1 s)" : "off"}`,
        ],
        pids: () => {
          const { master, worker: w } = n.pids();
          return pidsOf({ "nginx master": master, "nginx worker": w });
        },
        dump,
        stop,
      };
    }
    const fg = worker("fast-gateway", "fast-gateway-worker.ts", [
      "--port",
      `${await freePort()}`,
      "--target",
      serviceUrl,
    ]);
    return {
      url: String((await fg.ready).url),
      notes: ["fast-gateway 5.0.1 (fast-proxy-lite 1.1.2)"],
      pids: () => pidsOf(),
      dump,
      stop,
    };
  } catch (err) {
    const report = dump();
    await stop();
    throw new Error(`${c} did not start: ${err instanceof Error ? err.message : String(err)}\n${report}`);
  }
}
