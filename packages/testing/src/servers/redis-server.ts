/** @module Launches a throwaway real redis-server (no persistence) on a free loopback port, stoppable and restartable. */

import { mkdirSync, mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { findExecutable, type Launched, launch, onPath, removeDir, terminate, waitUntilReady } from "./process.js";

export interface RedisServerOptions {
  /** Port; a free one is picked by default. */
  port?: number;
  /** Binary to run; default $FLOTILLA_REDIS_SERVER, then `redis-server` on PATH, then /usr/bin/redis-server. */
  binary?: string;
  /** Extra redis-server arguments, appended last. */
  args?: string[];
  /** Readiness deadline per start, default 10 000 ms. */
  startTimeoutMs?: number;
  /** SIGTERM grace period before SIGKILL, default 5 000 ms. */
  stopGraceMs?: number;
}

export interface RedisServerHandle {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** PID of the current process; -1 while stopped. */
  readonly pid: number;
  /** SIGTERM (SIGKILL after the grace period); resolves once the process has exited and its dir is gone. Idempotent. */
  stop(): Promise<void>;
  /** Starts again on the same port after stop(), with an empty data set (nothing is persisted). */
  start(): Promise<void>;
  /** Recent server log output. */
  logs(): string;
}

/** Finds the redis-server binary or throws an error that says how to install it. */
export function resolveRedisServerBinary(explicit?: string): string {
  const forced = explicit ?? process.env.FLOTILLA_REDIS_SERVER;
  if (forced) {
    if (findExecutable([forced])) return forced;
    throw new Error(`redis-server binary "${forced}" does not exist or is not executable.`);
  }
  const found = findExecutable([...onPath("redis-server"), "/usr/bin/redis-server"]);
  if (found) return found;
  throw new Error(
    "redis-server not found on PATH or at /usr/bin/redis-server. Install it with `apt-get install redis-server` or point FLOTILLA_REDIS_SERVER at the binary.",
  );
}

/** Resolves true if a Redis server on 127.0.0.1:port answers PING with PONG. */
export function pingRedis(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      // A server still loading answers -LOADING, which is not ready.
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.once("error", () => done(false));
  });
}

/** Starts redis-server and resolves once it answers PING. */
export async function redisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const binary = resolveRedisServerBinary(opts.binary);
  const port = opts.port ?? (await freePort());
  // redis-server writes nothing with these settings, but a dir of its own keeps a stray dump out of the cwd.
  const dir = mkdtempSync(join(tmpdir(), "flotilla-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    ...(opts.args ?? []),
  ];
  const graceMs = opts.stopGraceMs ?? 5_000;
  let proc: Launched | undefined;

  const start = async (): Promise<void> => {
    if (proc !== undefined && !proc.hasExited()) return;
    mkdirSync(dir, { recursive: true });
    const launched = launch(binary, args, { stopSignal: "SIGTERM", cleanupDir: dir });
    try {
      await waitUntilReady(launched, `redis-server (${binary})`, opts.startTimeoutMs ?? 10_000, () => pingRedis(port));
    } catch (err) {
      await terminate(launched, "SIGKILL", 0);
      throw err;
    }
    proc = launched;
  };

  try {
    await start();
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return proc === undefined || proc.hasExited() ? -1 : proc.pid;
    },
    async stop() {
      if (proc !== undefined) await terminate(proc, "SIGTERM", graceMs);
      removeDir(dir);
    },
    start,
    logs: () => proc?.output() ?? "",
  };
}
