/**
 * @module The edge benchmark's node workers: each one a child process whose stdout and stderr go to a
 * log file (no pipe for the suite to drain, whatever the worker logs), with an IPC channel for its one
 * "ready" message. A worker exits when the channel closes, so none outlives a suite that died.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface Worker {
  readonly label: string;
  readonly pid: number;
  readonly logFile: string;
  /** The worker's ready message (or a failure if it exits or takes longer than the timeout). */
  readonly ready: Promise<Record<string, unknown>>;
  /** The last lines of the log file, for an error report. */
  tail(chars?: number): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

/** Starts `bench/edge/<script>` with the suite's own node flags (tsx). */
export function startWorker(
  label: string,
  script: string,
  args: readonly string[],
  opts: { logFile: string; env?: Record<string, string> },
): Worker {
  const file = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const fd = openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...process.execArgv, file, ...args], {
      stdio: ["ignore", fd, fd, "ipc"],
      env: { ...process.env, ...opts.env },
    });
  } finally {
    closeSync(fd);
  }
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
    child.once("error", () => {
      exited = true;
      resolve();
    });
  });
  const tail = (chars = 4_000) => {
    try {
      return readFileSync(opts.logFile, "utf8").slice(-chars);
    } catch {
      return "";
    }
  };
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label} not ready within ${READY_TIMEOUT_MS} ms\n${tail()}`)),
      READY_TIMEOUT_MS,
    );
    child.on("message", (msg: unknown) => {
      if (typeof msg === "object" && msg !== null && (msg as { ready?: unknown }).ready === true) {
        clearTimeout(timer);
        resolve(msg as Record<string, unknown>);
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${child.exitCode ?? child.signalCode}) before it was ready\n${tail()}`));
    });
  });
  ready.catch(() => undefined); // awaited by the caller; no unhandled rejection if it is not
  return {
    label,
    pid: child.pid ?? -1,
    logFile: opts.logFile,
    ready,
    tail,
    async stop(graceMs = 10_000) {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** In a worker: tell the suite it is ready; exit when the suite goes away. */
export function announceReady(info: Record<string, unknown> = {}): void {
  process.send?.({ ready: true, ...info });
  process.once("disconnect", () => process.exit(0));
}
