/** @module Instances of a service in child processes (fixtures/relay-instance.ts), driven over stdin/stdout. */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { waitFor } from "@flotilla/testing";

const CHILD = fileURLToPath(new URL("../fixtures/relay-instance.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface RelayInstance {
  /** The instance's name, as the relay lease records its holder. */
  readonly instance: string;
  /** Things whose events THIS process's relay published, in order. */
  readonly published: string[];
  place(id: string): Promise<void>;
  state(): Promise<{ rows: number; holder: string | null }>;
  /** Stops the host (handing the lease back) and waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILLs the process if it still runs. */
  kill(): void;
  output(): string;
}

/** Starts one instance of `service` on `url` in a process of its own; resolves once its host runs. */
export async function startRelayInstance(url: string, service: string): Promise<RelayInstance> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", CHILD, url, service], {
    cwd: REPO_ROOT,
    env: { ...process.env, FLOTILLA_LOG_LEVEL: "silent" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let log = "";
  let instance: string | undefined;
  let exited = false;
  const published: string[] = [];
  const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  let next = 0;
  child.stderr?.on("data", (chunk) => {
    log += chunk;
  });
  // "close", not "exit": by then every line the process wrote has been read.
  const exit = new Promise<void>((resolve) => {
    child.once("close", (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${service} child exited (${code ?? signal}): ${log}`));
      pending.clear();
      resolve();
    });
  });
  createInterface({ input: child.stdout as Readable }).on("line", (line) => {
    log += `${line}\n`;
    const message = JSON.parse(line) as {
      ready?: string;
      published?: string;
      n?: number;
      ok?: unknown;
      error?: string;
    };
    if (message.ready !== undefined) instance = message.ready;
    if (message.published !== undefined) published.push(message.published);
    if (message.n !== undefined) {
      const p = pending.get(message.n);
      pending.delete(message.n);
      if (message.error !== undefined) p?.reject(new Error(message.error));
      else p?.resolve(message.ok);
    }
  });
  const command = (cmd: string, extra: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      if (exited) return reject(new Error(`${service} child has exited: ${log}`));
      const n = ++next;
      pending.set(n, { resolve, reject });
      child.stdin?.write(`${JSON.stringify({ n, cmd, ...extra })}\n`);
    });
  await waitFor(() => instance !== undefined || exited, { what: `${service} to start`, timeoutMs: 30_000 });
  if (instance === undefined) throw new Error(`${service} child failed to start: ${log}`);
  return {
    instance,
    published,
    async place(id) {
      await command("place", { id });
    },
    async state() {
      return (await command("state")) as { rows: number; holder: string | null };
    },
    async stop() {
      await command("stop");
      await exit;
    },
    kill() {
      if (!exited) child.kill("SIGKILL");
    },
    output: () => log,
  };
}
