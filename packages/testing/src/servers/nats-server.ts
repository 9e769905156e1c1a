/** @module Launches a throwaway real nats-server (JetStream on by default) on a free loopback port. */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveNatsServerBinary } from "@flotilla/supervisor/servers";
import { freePort } from "./free-port.js";
import { canConnect, type Launched, launch, removeDir, terminate, waitUntilReady } from "./process.js";

export interface NatsServerOptions {
  /** Enable JetStream with a temp store dir (default true). */
  jetstream?: boolean;
  /** Client port; a free one is picked by default. */
  port?: number;
  /**
   * A configuration (nats-server's format, e.g. users and permissions), written to a file in the store
   * dir and passed with `-c`; the address, port and JetStream flags still override what it sets.
   */
  config?: string;
  /** Extra nats-server arguments, appended last. */
  args?: string[];
  /** Binary to run; default $FLOTILLA_NATS_SERVER, then `nats-server` on PATH, then /usr/sbin/nats-server. */
  binary?: string;
  /** Readiness deadline per (re)start, default 10 000 ms. */
  startTimeoutMs?: number;
  /** SIGTERM grace period before SIGKILL, default 5 000 ms. */
  stopGraceMs?: number;
  /** Keep the store dir after stop() (default false). */
  keepStoreDir?: boolean;
}

export interface NatsServerHandle {
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** JetStream store dir (created even when JetStream is off, so cleanup is uniform). */
  readonly storeDir: string;
  /** PID of the current process; changes after restart(). */
  readonly pid: number;
  /** SIGTERM, SIGKILL after the grace period, then removes the store dir unless kept. */
  stop(opts?: { keepStoreDir?: boolean }): Promise<void>;
  /** Sends a signal to the current process (e.g. SIGKILL to simulate a crash). */
  kill(signal?: NodeJS.Signals): void;
  /** Stops, waits `downtimeMs` (default 0), starts again on the same port and store dir. */
  restart(opts?: { downtimeMs?: number }): Promise<void>;
  /** Recent server log output. */
  logs(): string;
}

/** Starts nats-server and resolves once it listens and has logged "Server is ready". */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = resolveNatsServerBinary(opts.binary);
  const port = opts.port ?? (await freePort());
  const storeDir = mkdtempSync(join(tmpdir(), "flotilla-nats-"));
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  const graceMs = opts.stopGraceMs ?? 5_000;
  let keepStoreDir = opts.keepStoreDir ?? false;
  const configArgs: string[] = [];
  if (opts.config !== undefined) {
    const file = join(storeDir, "nats-server.conf");
    writeFileSync(file, opts.config, { mode: 0o600 });
    configArgs.push("-c", file);
  }
  const args = [
    ...configArgs,
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
    ...(opts.jetstream === false ? [] : ["-js", "-sd", storeDir]),
    ...(opts.args ?? []),
  ];

  // With -l/--log the "ready" line goes to the file, so the TCP probe alone has to do.
  const logsToFile = args.some((arg) => arg === "-l" || arg === "--log");
  const spawnAndWait = async (): Promise<Launched> => {
    const proc = launch(binary, args, { stopSignal: "SIGTERM", ...(keepStoreDir ? {} : { cleanupDir: storeDir }) });
    try {
      await waitUntilReady(proc, `nats-server (${binary} ${args.join(" ")})`, timeoutMs, async () =>
        logsToFile || proc.output().includes("Server is ready") ? canConnect(port) : false,
      );
      return proc;
    } catch (err) {
      await terminate(proc, "SIGKILL", 0);
      throw err;
    }
  };

  let proc: Launched;
  try {
    proc = await spawnAndWait();
  } catch (err) {
    if (!keepStoreDir) removeDir(storeDir);
    throw err;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid() {
      return proc.pid;
    },
    async stop(stopOpts) {
      keepStoreDir = stopOpts?.keepStoreDir ?? keepStoreDir;
      await terminate(proc, "SIGTERM", graceMs);
      if (!keepStoreDir) removeDir(storeDir);
    },
    kill(signal = "SIGKILL") {
      if (!proc.hasExited()) proc.child.kill(signal);
    },
    async restart(restartOpts) {
      await terminate(proc, "SIGTERM", graceMs);
      const downtimeMs = restartOpts?.downtimeMs ?? 0;
      if (downtimeMs > 0) await new Promise((resolve) => setTimeout(resolve, downtimeMs));
      proc = await spawnAndWait();
    },
    logs: () => proc.output(),
  };
}

export { resolveNatsServerBinary };
