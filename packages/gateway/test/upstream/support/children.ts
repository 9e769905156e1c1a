/** @module Starts test upstreams as child processes and reads the URL each prints. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./upstream-child.ts", import.meta.url));

export interface ChildUpstream {
  readonly url: string;
  readonly process: ChildProcess;
}

export function spawnUpstream(name: string): Promise<ChildUpstream> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, name], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line !== undefined) resolve({ url: line.trim(), process: child });
    });
    child.once("exit", (code) => reject(new Error(`upstream ${name} exited with ${code} before serving`)));
  });
}

/** Kills it at once, as a crash would, and waits until it is gone. */
export async function killHard(child: ChildUpstream): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const gone = new Promise((resolve) => child.process.once("exit", resolve));
  child.process.kill("SIGKILL");
  await gone;
}
