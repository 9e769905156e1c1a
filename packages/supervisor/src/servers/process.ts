/** @module Child-process plumbing the launchers share: spawn, readiness, stop, leak guard. */

import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, rmSync, statSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { delimiter, join } from "node:path";

/** Resolves true if something accepts a TCP connection on 127.0.0.1:port right now. */
export function canConnect(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Returns the first candidate that is an executable file, or undefined. */
export function findExecutable(candidates: readonly string[]): string | undefined {
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/** Candidate paths for `name` in every $PATH directory. */
export function onPath(name: string): string[] {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name));
}

export interface LaunchOptions {
  /** Signal for a graceful stop (the leak guard sends it before SIGKILL). */
  stopSignal: NodeJS.Signals;
  /** Directory the leak guard removes if this process outlives its owner; omit to keep it. */
  cleanupDir?: string;
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * Run in a process group of its own, so a terminal's Ctrl-C (sent to the whole foreground group)
   * reaches only the owner, which then stops its children in the order it chooses.
   */
  ownProcessGroup?: boolean;
}

export interface Launched {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves once the process has exited (and been reaped). */
  readonly exited: Promise<void>;
  hasExited(): boolean;
  /** Last 64 KiB of combined stdout/stderr. */
  output(): string;
  /** Detaches the leak guard, e.g. before a deliberate stop. */
  disarm(): void;
}

const live = new Map<Launched, NodeJS.Signals>();
let exitHookInstalled = false;

// Shell watchdog: blocks on a pipe from us; EOF means we died (even via SIGKILL), so it stops the
// server, escalates to SIGKILL after 5 s and removes the temp dir. Killing it first disarms it.
// A zombie (orphans can wait a while for init to reap them) counts as gone.
const WATCHDOG = [
  'read -r _; kill -s "$2" "$1" 2>/dev/null; n=0',
  'while kill -0 "$1" 2>/dev/null && ! grep -qs "^State:.*Z" /proc/"$1"/status && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done',
  'kill -s KILL "$1" 2>/dev/null; [ -n "$3" ] && rm -rf -- "$3"',
].join("; ");

/** Spawns a server process with captured output and a watchdog that cleans up if we die. */
export function launch(file: string, args: readonly string[], opts: LaunchOptions): Launched {
  const child = spawn(file, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: opts.env ?? process.env,
    detached: opts.ownProcessGroup === true,
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid ?? opts.uid }),
  });
  let log = "";
  let exited = false;
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-65536);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exitedPromise = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    // spawn failures (ENOENT, EACCES) emit "error" and never "exit"
    child.once("error", (err) => {
      append(Buffer.from(`spawn error: ${err.message}\n`));
      resolve();
    });
  }).then(() => {
    exited = true;
    live.delete(handle);
  });
  let watchdog: ChildProcess | undefined;
  if (child.pid !== undefined) {
    const wdArgs = [String(child.pid), opts.stopSignal.replace(/^SIG/, ""), opts.cleanupDir ?? ""];
    // detached = own session, so a terminal Ctrl-C does not kill it before it has cleaned up
    watchdog = spawn("sh", ["-c", WATCHDOG, "flotilla-watchdog", ...wdArgs], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
    });
    watchdog.unref();
    (watchdog.stdin as unknown as Socket | null)?.unref();
  }
  const handle: Launched = {
    child,
    pid: child.pid ?? -1,
    exited: exitedPromise,
    hasExited: () => exited,
    output: () => log,
    disarm: () => watchdog?.kill("SIGKILL"),
  };
  // Let a forgetful caller's process exit; the watchdog then cleans up.
  child.unref();
  (child.stdout as unknown as Socket | null)?.unref();
  (child.stderr as unknown as Socket | null)?.unref();
  live.set(handle, opts.stopSignal);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const [l, signal] of live) l.child.kill(signal);
    });
  }
  return handle;
}

/** Graceful stop: `signal`, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminate(l: Launched, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  l.disarm();
  if (l.hasExited()) return;
  l.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), graceMs);
  });
  const slow = await Promise.race([l.exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (slow) l.child.kill("SIGKILL");
  await l.exited;
}

/** Polls `check` until true; fails early with the server output if the process exits, or on timeout. */
export async function waitUntilReady(
  l: Launched,
  what: string,
  timeoutMs: number,
  check: (l: Launched) => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const fail = (why: string) => new Error(`${what} ${why}.\n--- output ---\n${l.output()}`);
  for (;;) {
    if (l.hasExited()) throw fail(`exited before becoming ready (${l.child.exitCode ?? l.child.signalCode})`);
    if (await check(l)) return;
    if (Date.now() > deadline) throw fail(`did not become ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Removes a directory tree, ignoring a missing one. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
