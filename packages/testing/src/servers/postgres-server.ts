/** @module Launches a throwaway PostgreSQL cluster (initdb + postgres) on a free loopback port in a temp dir. */

import { execFile } from "node:child_process";
import { chownSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { postgresEnv, postgresOsUser, resolvePgBinDir } from "@flotilla/supervisor/servers";
import { freePort } from "./free-port.js";
import {
  canConnect,
  findExecutable,
  type Launched,
  launch,
  onPath,
  removeDir,
  terminate,
  waitUntilReady,
} from "./process.js";

const run = promisify(execFile);
const INITDB_FLAGS = ["--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"];

export interface PostgresOptions {
  port?: number;
  /** Database superuser created by initdb (default "postgres"); no password, trust auth on loopback. */
  user?: string;
  /** Directory with initdb/postgres; default $FLOTILLA_PG_BIN, PATH, /usr/lib/postgresql/<newest>/bin, /usr/local/bin. */
  binDir?: string;
  /** OS account to run the cluster as when we are root (default $FLOTILLA_PG_OS_USER, "postgres", then "nobody"). */
  osUser?: string;
  /** Extra server settings, passed as `-c key=value`. */
  settings?: Record<string, string>;
  /** Readiness deadline after initdb, default 20 000 ms. */
  startTimeoutMs?: number;
  /** Fast-shutdown grace period before SIGKILL, default 10 000 ms. */
  stopGraceMs?: number;
}

export interface PostgresHandle {
  /** postgres://USER@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Cluster data dir (a temp dir removed by stop()). */
  readonly dataDir: string;
  readonly pid: number;
  /** Fast shutdown (SIGINT), SIGKILL after the grace period, then removes the data dir. */
  stop(): Promise<void>;
  /** Sends a signal to the postmaster (e.g. SIGKILL to simulate a crash). */
  kill(signal?: NodeJS.Signals): void;
  /** CREATE DATABASE via psql; returns its URL. Names must match /^[a-z_][a-z0-9_]*$/i. */
  createDatabase(name: string): Promise<string>;
  /** Recent server log output. */
  logs(): string;
}

/** initdb + postgres on 127.0.0.1 only, unix sockets off, durability off; resolves once pg_isready passes. */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresHandle> {
  const binDir = resolvePgBinDir(opts.binDir);
  const osUser = await postgresOsUser(opts.osUser);
  const ids = osUser ? { uid: osUser.uid, gid: osUser.gid } : {};
  const [host, user, env] = ["127.0.0.1", opts.user ?? "postgres", postgresEnv()];
  const port = opts.port ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-pg-"));
  try {
    if (osUser) chownSync(dataDir, osUser.uid, osUser.gid);
    const initArgs = ["-D", dataDir, "-U", user, ...INITDB_FLAGS];
    await run(join(binDir, "initdb"), initArgs, { env, timeout: 60_000, ...ids }).catch((err: Error) => {
      const hint = osUser ? `\n(ran as OS user "${osUser.name}"; it needs access to every parent of the dir)` : "";
      throw new Error(`initdb failed: ${err.message}${hint}`);
    });
  } catch (err) {
    removeDir(dataDir);
    throw err;
  }

  const settings: Record<string, string> = {
    port: String(port),
    listen_addresses: host,
    unix_socket_directories: "",
    fsync: "off", // throwaway test data: durability only costs time
    synchronous_commit: "off",
    full_page_writes: "off",
    dynamic_shared_memory_type: "mmap", // segments live in the data dir, so nothing leaks into /dev/shm
    ...opts.settings,
  };
  const serverArgs = ["-D", dataDir, ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
  const pgIsReady = findExecutable([join(binDir, "pg_isready")]);
  const isReadyArgs = ["-q", "-h", host, "-p", String(port), "-U", user, "-d", "postgres"];
  const ready = pgIsReady
    ? () =>
        run(pgIsReady, isReadyArgs, { env })
          .then(() => true)
          .catch(() => false)
    : async (l: Launched) => l.output().includes("ready to accept connections") && canConnect(port);
  let proc: Launched | undefined;
  try {
    // SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for clients to disconnect.
    proc = launch(join(binDir, "postgres"), serverArgs, { stopSignal: "SIGINT", cleanupDir: dataDir, env, ...ids });
    await waitUntilReady(proc, `postgres (${binDir}/postgres)`, opts.startTimeoutMs ?? 20_000, ready);
  } catch (err) {
    if (proc) await terminate(proc, "SIGKILL", 0);
    removeDir(dataDir);
    throw err;
  }
  const server = proc;

  const urlFor = (db: string) => `postgres://${encodeURIComponent(user)}@${host}:${port}/${db}`;
  const psql = findExecutable([join(binDir, "psql"), ...onPath("psql")]);
  return {
    url: urlFor("postgres"),
    host,
    port,
    user,
    dataDir,
    pid: server.pid,
    async stop() {
      await terminate(server, "SIGINT", opts.stopGraceMs ?? 10_000);
      removeDir(dataDir);
    },
    kill(signal = "SIGKILL") {
      if (!server.hasExited()) server.child.kill(signal);
    },
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`createDatabase: invalid database name "${name}"`);
      if (!psql) throw new Error("createDatabase needs psql: `apt-get install postgresql-client-15`.");
      const args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", urlFor("postgres"), "-c", `CREATE DATABASE "${name}"`];
      await run(psql, args, { env }).catch((err: { stderr?: string }) => {
        throw new Error(`createDatabase("${name}") failed: ${err.stderr?.trim() || String(err)}`);
      });
      return urlFor(name);
    },
    logs: () => server.output(),
  };
}

export { resolvePgBinDir };
