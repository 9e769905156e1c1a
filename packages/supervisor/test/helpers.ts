/** @module Test support: `flotilla up` as a real child process (with a leak guard), and small probes. */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { get } from "node:http";
import { join, resolve } from "node:path";
import { until, withTimeout } from "../../cli/test/split-helpers.js";

export const root = resolve(import.meta.dirname, "../../..");
export const cliBin = join(root, "packages/cli/bin/flotilla.js");

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** A `flotilla …` command run to its end: exit code and output. */
export async function flotilla(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [cliBin, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d));
  child.stderr?.on("data", (d: Buffer) => (out += d));
  const code = await withTimeout(
    new Promise<number | null>((r) => child.once("close", (c) => r(c))),
    timeoutMs,
    `flotilla ${args.join(" ")}`,
  );
  return { code, out };
}

/** A running `flotilla up`: its process, output, and the gateway URL it printed. */
export interface Up {
  readonly child: ChildProcess;
  output(): string;
  readonly gatewayUrl: string;
  /** Resolves with the exit code once it exited. */
  readonly closed: Promise<number | null>;
}

/** Spawns `flotilla up --plain …` and resolves once it printed that it is up. */
export async function startUp(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 150_000,
): Promise<Up> {
  const child = spawn(process.execPath, [cliBin, "up", "--plain", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FLOTILLA_LOG_LEVEL: "info", ...env },
  });
  live.add(child);
  let out = "";
  const append = (d: Buffer) => {
    out = (out + d.toString()).slice(-512 * 1024);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  let exited = false;
  const closed = new Promise<number | null>((r) =>
    child.once("close", (code) => {
      exited = true;
      live.delete(child);
      r(code);
    }),
  );
  await until(
    () => / up: gateway on /.test(out) || exited,
    timeoutMs,
    "flotilla up to be up",
    () => out.slice(-8_000),
    100,
  );
  if (exited) throw new Error(`flotilla up exited:\n${out.slice(-8_000)}`);
  return { child, output: () => out, gatewayUrl: / up: gateway on (\S+),/.exec(out)?.[1] ?? "", closed };
}

/** Whether a process of this pid exists and is no zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/**
 * A GET on a connection of its own (`connection: close`): the supervisor balances connections, so a
 * client that wants each request to reach a ready instance opens one per request. Status 0 when it failed.
 */
export function freshGet(url: string, timeoutMs = 10_000): Promise<{ status: number; error?: string }> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once("end", () => resolve({ status: res.statusCode ?? 0 }));
      res.once("error", (err) => resolve({ status: 0, error: String(err) }));
    });
    req.once("timeout", () => req.destroy(new Error("timed out")));
    req.once("error", (err) => resolve({ status: 0, error: String(err) }));
  });
}
