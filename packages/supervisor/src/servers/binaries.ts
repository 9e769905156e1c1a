/** @module Finding the nats-server and PostgreSQL binaries, and the OS account PostgreSQL runs as under root. */

import { execFile } from "node:child_process";
import { readdirSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { findExecutable, onPath } from "./process.js";

const run = promisify(execFile);

/** Finds the nats-server binary or throws an error that says how to install it. */
export function resolveNatsServerBinary(explicit?: string): string {
  const fromEnv = explicit ?? process.env.FLOTILLA_NATS_SERVER;
  if (fromEnv) {
    if (findExecutable([fromEnv])) return fromEnv;
    throw new Error(
      `nats-server binary "${fromEnv}" (from ${explicit ? "options.binary" : "FLOTILLA_NATS_SERVER"}) does not exist or is not executable.`,
    );
  }
  const found = findExecutable([...onPath("nats-server"), "/usr/sbin/nats-server"]);
  if (found) return found;
  throw new Error(
    "nats-server not found on PATH or at /usr/sbin/nats-server. Install it with `apt-get install nats-server` or point FLOTILLA_NATS_SERVER at the binary.",
  );
}

/** Finds the directory holding initdb and postgres (symlinks resolved, so pg_isready/psql sit beside them). */
export function resolvePgBinDir(explicit?: string): string {
  const has = (dir: string) => findExecutable([join(dir, "initdb")]) && findExecutable([join(dir, "postgres")]);
  const canonical = (dir: string) => dirname(realpathSync(join(dir, "postgres")));
  const forced = explicit ?? process.env.FLOTILLA_PG_BIN;
  if (forced) {
    if (has(forced)) return canonical(forced);
    throw new Error(
      `PostgreSQL binaries initdb/postgres not found in "${forced}" (from ${explicit ? "options.binDir" : "FLOTILLA_PG_BIN"}).`,
    );
  }
  const versioned = safeReaddir("/usr/lib/postgresql")
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => `/usr/lib/postgresql/${v}/bin`);
  const pathDirs = onPath("postgres").map(dirname);
  const dir = [...pathDirs, ...versioned, "/usr/local/bin"].find(has);
  if (dir) return canonical(dir);
  throw new Error(
    "PostgreSQL server binaries (initdb, postgres) not found on PATH, in /usr/lib/postgresql/*/bin or /usr/local/bin. Install them with `apt-get install postgresql-15 postgresql-client-15` or point FLOTILLA_PG_BIN at their directory.",
  );
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** An OS account a server process runs as. */
export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The unprivileged account to run PostgreSQL as when this process is root (initdb and postgres both
 * refuse root): `osUser`, else $FLOTILLA_PG_OS_USER, else "postgres", then "nobody". Undefined when not root.
 */
export async function postgresOsUser(osUser?: string): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const wanted = osUser ?? process.env.FLOTILLA_PG_OS_USER;
  for (const name of wanted ? [wanted] : ["postgres", "nobody"]) {
    // getent rather than /etc/passwd so NSS accounts count too
    const entry = await run("getent", ["passwd", name])
      .then((r) => r.stdout.trim().split(":"))
      .catch(() => []);
    const [uid, gid] = [Number(entry[2]), Number(entry[3])];
    if (entry.length > 3 && uid !== 0) return { name, uid, gid };
  }
  const who = wanted ? `"${wanted}"` : '"postgres" or "nobody"';
  throw new Error(`Running as root, but no unprivileged OS user ${who} exists to run PostgreSQL as.`);
}

/** Child env without the caller's PG* variables (PGHOST, PGPASSWORD...), with untranslated messages. */
export function postgresEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("PG")));
  return { ...env, LC_ALL: "C", LANG: "C" };
}
