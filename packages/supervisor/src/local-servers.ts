/**
 * @module The servers `flotilla up` starts when none are given: a nats-server with JetStream and a
 * PostgreSQL cluster, both on loopback, both keeping their data under the supervisor's data dir so a
 * later `flotilla up` finds the same streams and databases.
 */
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  canConnect,
  findExecutable,
  freePort,
  type Launched,
  launch,
  postgresEnv,
  postgresOsUser,
  resolveNatsServerBinary,
  resolvePgBinDir,
  terminate,
  waitUntilReady,
} from "./servers/index.js";

const run = promisify(execFile);

/** A server the supervisor started: where it answers, and how to stop it. */
export interface LocalServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** nats-server with JetStream, its store in `<dataDir>/nats`, on `port` (a free one by default). */
export async function startLocalNats(dataDir: string, port?: number): Promise<LocalServer> {
  const binary = resolveNatsServerBinary();
  const chosen = port ?? (await freePort());
  const storeDir = join(dataDir, "nats");
  mkdirSync(storeDir, { recursive: true });
  const args = ["-a", "127.0.0.1", "-p", String(chosen), "-js", "-sd", storeDir];
  const proc = launch(binary, args, { stopSignal: "SIGTERM", ownProcessGroup: true });
  await started(proc, `nats-server (${binary} ${args.join(" ")})`, 15_000, async () =>
    proc.output().includes("Server is ready") ? canConnect(chosen) : false,
  );
  return server(proc, `nats://127.0.0.1:${chosen}`, "SIGTERM", 10_000);
}

/**
 * A PostgreSQL cluster in `<dataDir>/postgres` (initdb on first use; as root, run as an unprivileged OS
 * user, which needs access to every parent of the dir). Resolves with the admin URL's base,
 * `postgres://postgres@127.0.0.1:PORT`. Throws when the binaries are missing.
 */
export async function startLocalPostgres(dataDir: string): Promise<LocalServer> {
  const binDir = resolvePgBinDir();
  const osUser = await postgresOsUser();
  const ids = osUser ? { uid: osUser.uid, gid: osUser.gid } : {};
  const env = postgresEnv();
  const clusterDir = join(dataDir, "postgres");
  if (!existsSync(join(clusterDir, "PG_VERSION"))) {
    mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
    if (osUser) chownSync(clusterDir, osUser.uid, osUser.gid);
    const initArgs = [
      "-D",
      clusterDir,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-instructions",
    ];
    await run(join(binDir, "initdb"), initArgs, { env, timeout: 120_000, ...ids }).catch((err: Error) => {
      const hint = osUser ? ` (ran as OS user "${osUser.name}"; it needs access to every parent of ${clusterDir})` : "";
      throw new Error(`initdb failed${hint}: ${err.message}`);
    });
  }
  const port = await freePort();
  // Every instance holds a pool per service (and a LISTEN connection): the default 100 connections ran
  // out with a unit of three services at three instances, so room for the shop at its maxima and more.
  const settings = {
    port: String(port),
    listen_addresses: "127.0.0.1",
    unix_socket_directories: "",
    max_connections: "500",
  };
  const args = ["-D", clusterDir, ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
  // SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for clients to disconnect.
  const proc = launch(join(binDir, "postgres"), args, { stopSignal: "SIGINT", env, ownProcessGroup: true, ...ids });
  const pgIsReady = findExecutable([join(binDir, "pg_isready")]);
  const isReadyArgs = ["-q", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres"];
  await started(proc, `postgres (${binDir}/postgres)`, 30_000, async (l) =>
    pgIsReady
      ? run(pgIsReady, isReadyArgs, { env }).then(
          () => true,
          () => false,
        )
      : l.output().includes("ready to accept connections") && canConnect(port),
  );
  return server(proc, `postgres://postgres@127.0.0.1:${port}`, "SIGINT", 15_000);
}

async function started(proc: Launched, what: string, timeoutMs: number, check: (l: Launched) => Promise<boolean>) {
  try {
    await waitUntilReady(proc, what, timeoutMs, check);
  } catch (err) {
    await terminate(proc, "SIGKILL", 0);
    throw err;
  }
}

function server(proc: Launched, url: string, signal: NodeJS.Signals, graceMs: number): LocalServer {
  return { url, pid: proc.pid, stop: () => terminate(proc, signal, graceMs) };
}
