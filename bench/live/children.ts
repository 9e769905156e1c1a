/**
 * @module The live benchmark's child processes: each started with the suite's node flags (tsx), its
 * stdout and stderr to a log file, and an IPC channel for requests (`{ id, cmd, … }` → `{ id, result }`
 * or `{ id, error }`). A child exits when the channel closes, so none outlives a suite that died.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface Child {
  readonly label: string;
  readonly pid: number;
  /** What the child answered to `ready` (a server: its `url`). */
  readonly info: Record<string, unknown>;
  /** Sends a command and resolves with the child's answer (rejects on its error, or if it exits). */
  request<T>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** The last characters of its log, for an error report. */
  tail(chars?: number): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

type Reply = { id: number; result?: unknown; error?: string };

/** Starts `bench/live/<script>` and resolves once it answered its first request, `ready` (stopped if it does not). */
export async function startChild(
  label: string,
  script: string,
  args: readonly string[],
  logFile: string,
): Promise<Child> {
  const file = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...process.execArgv, file, ...args], { stdio: ["ignore", fd, fd, "ipc"] });
  } finally {
    closeSync(fd);
  }
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  let exited = false;
  const tail = (chars = 3_000) => {
    try {
      return readFileSync(logFile, "utf8").slice(-chars);
    } catch {
      return "";
    }
  };
  const exit = new Promise<void>((resolve) => {
    const gone = () => {
      exited = true;
      for (const p of pending.values())
        p.reject(new Error(`${label} exited (${child.exitCode ?? child.signalCode})\n${tail()}`));
      pending.clear();
      resolve();
    };
    child.once("exit", gone);
    child.once("error", gone);
  });
  child.on("message", (msg: Reply) => {
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(new Error(`${label}: ${msg.error}`));
    else p.resolve(msg.result);
  });
  const handle: Omit<Child, "info"> = {
    label,
    pid: child.pid ?? -1,
    tail,
    request<T>(cmd: string, rest: Record<string, unknown> = {}, timeoutMs = 120_000) {
      if (exited) return Promise.reject(new Error(`${label} has exited\n${tail()}`));
      const id = ++next;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${label}: no answer to ${cmd} within ${timeoutMs} ms\n${tail()}`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, cmd, ...rest });
      });
    },
    async stop(graceMs = 10_000) {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
  try {
    const info = await handle.request<Record<string, unknown>>("ready", {}, 60_000);
    return { ...handle, info };
  } catch (err) {
    await handle.stop();
    throw err;
  }
}

/** In a child: answers the suite's requests with `handlers`; exits when the suite goes away. */
export function serveRequests(handlers: Record<string, (args: Record<string, unknown>) => unknown>): void {
  process.on("message", (msg: { id: number; cmd: string } & Record<string, unknown>) => {
    const handler = handlers[msg.cmd];
    if (handler === undefined) {
      process.send?.({ id: msg.id, error: `unknown command ${msg.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(msg))
      .then(
        (result) => process.send?.({ id: msg.id, result: result ?? null }),
        (err: unknown) =>
          process.send?.({ id: msg.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  process.once("disconnect", () => process.exit(0));
}
