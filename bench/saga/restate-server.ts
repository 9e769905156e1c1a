/**
 * @module Restate's server for a saga benchmark run: the binary from the `@restatedev/restate-server`
 * npm package (its platform package holds it), on free loopback ports, TCP only, a temp base dir, no
 * telemetry; otherwise its default configuration. Stopped with SIGTERM (SIGKILL after 10 s), its dir
 * removed; a watchdog does both if this process dies first.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort } from "@flotilla/testing";
import {
  type Launched,
  launch,
  removeDir,
  terminate,
  waitUntilReady,
} from "../../packages/testing/src/servers/process.js";

export interface RestateServer {
  readonly version: string;
  readonly pid: number;
  /** `http://127.0.0.1:PORT`: where invocations go. */
  readonly ingress: string;
  /** `http://127.0.0.1:PORT`: where deployments are registered. */
  readonly admin: string;
  /** Registers the service endpoint at `uri` (e.g. `http://127.0.0.1:9080`). */
  register(uri: string): Promise<void>;
  stop(): Promise<void>;
}

/** The binary inside `@restatedev/restate-server-<platform>-<arch>`. */
export function restateBinary(): string {
  const require = createRequire(import.meta.url);
  const arch = process.arch === "x64" ? "x64" : process.arch;
  const pkg = require.resolve(`@restatedev/restate-server-${process.platform}-${arch}/package.json`);
  return join(dirname(pkg), "bin", "restate-server");
}

export async function startRestate(): Promise<RestateServer> {
  const binary = restateBinary();
  const version = execFileSync(binary, ["--version"], { encoding: "utf8" }).trim();
  const [fabric, admin, ingress] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-restate-"));
  const env = {
    ...process.env,
    RESTATE_BIND_ADDRESS: `127.0.0.1:${fabric}`,
    RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${fabric}/`,
    RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
    RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
    RESTATE_DISABLE_TELEMETRY: "true",
    RESTATE_LOG_FILTER: "warn",
  };
  const args = ["--no-logo", "--listen-mode", "tcp", "--base-dir", dir, "--node-name", "bench"];
  let proc: Launched | undefined;
  const urls = { ingress: `http://127.0.0.1:${ingress}`, admin: `http://127.0.0.1:${admin}` };
  try {
    proc = launch(binary, args, { stopSignal: "SIGTERM", cleanupDir: dir, env });
    const ok = (url: string) =>
      fetch(url, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
    await waitUntilReady(proc, `restate-server (${binary})`, 60_000, async () => {
      return (await ok(`${urls.admin}/health`)) && (await ok(`${urls.ingress}/restate/health`));
    });
  } catch (err) {
    if (proc) await terminate(proc, "SIGKILL", 0);
    removeDir(dir);
    throw err;
  }
  const server = proc;
  return {
    version,
    pid: server.pid,
    ...urls,
    async register(uri) {
      const res = await fetch(`${urls.admin}/deployments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ uri, force: true }),
      });
      if (!res.ok) throw new Error(`registering ${uri} with restate: ${res.status} ${await res.text()}`);
    },
    async stop() {
      await terminate(server, "SIGTERM", 10_000);
      removeDir(dir);
    },
  };
}
