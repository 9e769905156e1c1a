/**
 * @module Test support for running Flotilla split over NATS: a real nats-server and `flotilla start`
 * processes (separate OS processes, each with its own data dir), with bounded waits and no leaks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Writable } from "node:stream";
import { type NatsServerHandle, startNatsServer } from "@flotilla/testing";

export const root = resolve(import.meta.dirname, "../../..");
const bin = join(root, "packages/cli/bin/flotilla.js");
const OUTPUT_LIMIT = 256 * 1024;

/** Every child started by this module, so even a crashing test runner leaves none behind. */
const live = new Set<ChildProcess>();
let exitHook = false;

export interface StartOptions {
  /** `--services` value: `catalog`, `catalog,orders`, `none`, `all`; one of this and `unit`. */
  services?: string;
  /** `--unit` value: a deployment unit's name (its services, and the gateway when `gateway` says it serves it). */
  unit?: string;
  /** `--layout` for `unit`: `app` (default), `single`, `per-service`. */
  layout?: string;
  /** `--app` (relative to the repository root); the shop (from package.json) by default. */
  app?: string;
  /** Serve the app's gateway (`--gateway --port 0`; with `unit`, a unit serving it: `--port 0`). */
  gateway?: boolean;
  /** Serve /livez /readyz /metrics (`--ops-port 0`). */
  ops?: boolean;
  /** Query string appended to the transport URL, e.g. `ackWaitMs=2000`. */
  transportQuery?: string;
  /** The whole transport URL instead of the cluster's (e.g. with a NATS user's credentials). */
  transport?: string;
  env?: Record<string, string>;
  /** Reuse a data dir (default: a fresh one per process). */
  dataDir?: string;
  /** How long it may take to print that it runs (default 30 s). */
  startTimeoutMs?: number;
}

export interface FlotillaProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly dataDir: string;
  /** `http://127.0.0.1:PORT` of the gateway, when it runs one. */
  readonly url: string;
  /** `http://127.0.0.1:PORT` of the ops port, when it serves one. */
  readonly opsUrl: string;
  /** Combined stdout and stderr (the last 256 KiB). */
  output(): string;
  /** Resolves when the process has exited and its output pipes have closed. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** `Date.now()` when the process exited, once it has. */
  exitedAt(): number | undefined;
}

/** One test's world: a nats-server, Flotilla processes, temp dirs; `close()` removes all of it. */
export class Cluster {
  nats: NatsServerHandle | undefined;
  readonly processes: FlotillaProcess[] = [];
  private readonly dirs: string[] = [];
  private readonly watchdogs: ChildProcess[] = [];
  private edgeKeys: string | undefined;

  /** One edge key file for every process of the cluster: the gateway signs callers, the services verify them. */
  private edgeKeysPath(): string {
    this.edgeKeys ??= join(this.tempDir("flotilla-edge-"), "edge-keys.json");
    return this.edgeKeys;
  }

  async startNats(): Promise<NatsServerHandle> {
    this.nats = await startNatsServer({ startTimeoutMs: 10_000, stopGraceMs: 3_000 });
    return this.nats;
  }

  transportUrl(query?: string): string {
    if (this.nats === undefined) throw new Error("start nats-server first");
    return query ? `${this.nats.url}?${query}` : this.nats.url;
  }

  /** Spawns `flotilla start …` and resolves once it printed that it runs (and where it listens). */
  async start(name: string, opts: StartOptions): Promise<FlotillaProcess> {
    const dataDir = opts.dataDir ?? this.tempDir(`flotilla-${name}-`);
    const args = [
      bin,
      "start",
      ...(opts.app ? ["--app", opts.app] : []),
      ...(opts.unit === undefined ? ["--services", opts.services ?? "all"] : ["--unit", opts.unit]),
      ...(opts.layout === undefined ? [] : ["--layout", opts.layout]),
      "--transport",
      opts.transport ?? this.transportUrl(opts.transportQuery),
      "--data-dir",
      dataDir,
      "--host",
      "127.0.0.1",
      ...(opts.gateway ? [...(opts.unit === undefined ? ["--gateway"] : []), "--port", "0"] : []),
      ...(opts.ops ? ["--ops-port", "0"] : []),
    ];
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: {
        ...process.env,
        FLOTILLA_LOG_LEVEL: "warn",
        FLOTILLA_EDGE_KEYS: this.edgeKeysPath(),
        // These tests drive hundreds of requests from one client and one user; the limiter itself is
        // tested in the gateway's rate-limit tests, so here it is set high enough to admit them all.
        FLOTILLA_RATE_LIMIT: "1000000/60",
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.guard(child);
    let out = "";
    const append = (d: Buffer) => {
      out = (out + d.toString()).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    let exitedAt: number | undefined;
    child.once("exit", () => {
      exitedAt = Date.now();
      live.delete(child);
    });
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
      child.once("close", (code, signal) => r({ code, signal }));
      child.once("error", (err) => {
        append(Buffer.from(`spawn error: ${err.message}\n`));
        r({ code: null, signal: null });
      });
    });
    const proc: FlotillaProcess = {
      name,
      child,
      pid: child.pid ?? -1,
      dataDir,
      url: "",
      opsUrl: "",
      output: () => out,
      closed,
      exitedAt: () => exitedAt,
    };
    this.processes.push(proc);
    const ready = (text: string) =>
      /: running .* over (nats|memory)/.test(text) &&
      (!opts.gateway || / listening on http:\/\/\S+/.test(text)) &&
      (!opts.ops || /operations on http:\/\/\S+/.test(text));
    await until(
      () => ready(out) || exitedAt !== undefined,
      opts.startTimeoutMs ?? 30_000,
      `${name} to start`,
      () => out,
    );
    if (!ready(out)) throw new Error(`${name} exited before it ran:\n${out}`);
    return Object.assign(proc, {
      url: opts.gateway ? (/ listening on (http:\/\/\S+)/.exec(out)?.[1] ?? "") : "",
      opsUrl: opts.ops ? (/operations on (http:\/\/\S+)/.exec(out)?.[1] ?? "") : "",
    });
  }

  /** Sends a signal and waits (bounded) until the process has exited. */
  async signal(proc: FlotillaProcess, signal: NodeJS.Signals, timeoutMs = 25_000) {
    if (proc.exitedAt() === undefined) proc.child.kill(signal);
    return withTimeout(proc.closed, timeoutMs, `${proc.name} to exit after ${signal}`);
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** What every process printed, for a failed test's report. */
  dump(): string {
    const parts = this.processes.map((p) => `--- ${p.name} (pid ${p.pid}) ---\n${p.output().slice(-8_000)}`);
    if (this.nats) parts.push(`--- nats-server ---\n${this.nats.logs().slice(-4_000)}`);
    return parts.join("\n");
  }

  /** SIGKILLs whatever still runs, stops nats-server, removes the temp dirs. Bounded; never throws. */
  async close(): Promise<void> {
    for (const p of this.processes) if (p.exitedAt() === undefined) p.child.kill("SIGKILL");
    await Promise.all(this.processes.map((p) => withTimeout(p.closed, 5_000, `${p.name} to die`).catch(() => {})));
    for (const w of this.watchdogs) w.kill("SIGKILL");
    await this.nats?.stop().catch(() => {});
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }

  /**
   * Leak guard: a process exit hook, plus a shell watchdog that SIGKILLs the child when our end of its
   * pipe closes (i.e. when this test process dies, even by SIGKILL). Killed in close(), before the
   * child's pid could be reused.
   */
  private guard(child: ChildProcess): void {
    if (child.pid === undefined) return;
    live.add(child);
    if (!exitHook) {
      exitHook = true;
      process.on("exit", () => {
        for (const c of live) c.kill("SIGKILL");
      });
    }
    const watchdog = spawn(
      "sh",
      ["-c", 'read -r _; kill -s KILL "$1" 2>/dev/null', "flotilla-watchdog", `${child.pid}`],
      {
        stdio: ["pipe", "ignore", "ignore"],
        detached: true,
      },
    );
    watchdog.unref();
    (watchdog.stdin as (Writable & { unref?: () => void }) | null)?.unref?.();
    this.watchdogs.push(watchdog);
  }
}

/** Polls until `predicate` holds; throws after `timeoutMs` with `what` (and `context()` if given). */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  context?: () => string,
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${context ? `\n${context()}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Answer {
  status: number;
  body: unknown;
  /** When the request was sent and when its answer was complete (Date.now()). */
  startedAt: number;
  endedAt: number;
}

/**
 * One HTTP request with a hard bound (`status` 0 and `body` the error when it did not complete in
 * `timeoutMs`), so no loop in a test can hang.
 */
export async function http(url: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<Answer> {
  const startedAt = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, body, startedAt, endedAt: Date.now() };
  } catch (err) {
    return { status: 0, body: String(err), startedAt, endedAt: Date.now() };
  }
}

export function errorCode(answer: Answer): string | undefined {
  return (answer.body as { error?: { code?: string } } | null)?.error?.code;
}

/**
 * Sum of a Prometheus series' values over the lines whose labels include `labels` (e.g. every status of
 * one action's `flotilla_action_duration_seconds_count`).
 */
export async function metric(opsUrl: string, name: string, labels: Record<string, string>): Promise<number> {
  const res = await http(`${opsUrl}/metrics`, {}, 5_000);
  if (res.status !== 200) throw new Error(`${opsUrl}/metrics answered ${res.status}: ${String(res.body)}`);
  let sum = 0;
  for (const line of String(res.body).split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Runs `worker` in `concurrency` loops until it returns false; resolves when every loop has ended. */
export async function loops(concurrency: number, worker: (loop: number) => Promise<boolean>): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (await worker(i)) {}
    }),
  );
}

/** A gateway's /readyz is 200 once the host runs and every routed service has an instance answering. */
/** Signs in as the shop's demo customer through `gateway`; the header its order requests carry. */
export async function signIn(gateway: FlotillaProcess): Promise<{ authorization: string }> {
  const answer = await http(`${gateway.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "demo@flotilla.dev", password: "demo-password" }),
  });
  const token = (answer.body as { token?: unknown } | undefined)?.token;
  if (answer.status !== 200 || typeof token !== "string") {
    throw new Error(`sign-in failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return { authorization: `Bearer ${token}` };
}

export async function gatewayReady(gateway: FlotillaProcess, cluster: Cluster, timeoutMs = 15_000): Promise<void> {
  await until(
    async () => (await http(`${gateway.url}/readyz`, {}, 2_000)).status === 200,
    timeoutMs,
    `${gateway.name} to be ready`,
    () => cluster.dump(),
    50,
  );
}

export interface NatsOutage {
  readonly gateway: FlotillaProcess;
  /** Every answer of the two client loops, before, during and after the outage. */
  readonly results: Answer[];
  /** When nats-server was stopped, and when it was back. */
  readonly downAt: number;
  readonly upAt: number;
  /** The end of the first request that succeeded after the broker was back. */
  readonly recoveredAt: number;
}

/**
 * The split shop (catalog, orders with identity, a gateway) under two client loops reading products 20 ms apart,
 * while nats-server is restarted with 2 s of downtime; ends 20 requests after the first success after
 * it. Shared by the distributed-mode test (which checks the answers) and the failover benchmark.
 */
export async function natsOutageUnderLoad(cluster: Cluster, recoveryTimeoutMs: number): Promise<NatsOutage> {
  const nats = await cluster.startNats();
  const [, , gateway] = await Promise.all([
    cluster.start("catalog", { services: "catalog" }),
    cluster.start("orders", {
      services: "orders,identity,inventory,payments,shipping,notifications,recommendations,reviews",
    }),
    // Uncached: every product read must cross NATS, or the outage would not show (the cache answers meanwhile).
    cluster.start("gateway", { services: "none", gateway: true, env: { FLOTILLA_GATEWAY_CACHE: "off" } }),
  ]);
  await gatewayReady(gateway, cluster);
  const results: Answer[] = [];
  let stop = false;
  const load = loops(2, async () => {
    if (stop) return false;
    results.push(await http(`${gateway.url}/api/v1/products?limit=3`, {}, 6_000));
    await new Promise((r) => setTimeout(r, 20));
    return true;
  });
  const firstOkAfter = (t: number) => results.find((r) => r.startedAt > t && r.status === 200);
  try {
    await until(() => results.length >= 10, 10_000, "requests before the outage");
    const downAt = Date.now();
    await nats.restart({ downtimeMs: 2_000 });
    const upAt = Date.now();
    // Every process reconnects on its own (reconnectWaitMs 500 ms + jitter); none is restarted.
    await until(() => firstOkAfter(upAt) !== undefined, recoveryTimeoutMs, "a request to succeed after the outage");
    const recoveredAt = firstOkAfter(upAt)?.endedAt ?? Date.now();
    await until(() => results.filter((r) => r.startedAt > recoveredAt).length >= 20, 10_000, "requests after it");
    return { gateway, results, downAt, upAt, recoveredAt };
  } finally {
    stop = true;
    await withTimeout(load, 10_000, "the load loops to end").catch(() => {});
  }
}
