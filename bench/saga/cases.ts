/**
 * @module How each saga case runs: which child processes it starts, with which arguments, and which
 * of them drives the load. Every case gets processes (and Flotilla service names, DBOS database) of
 * its own; the servers (nats-server, PostgreSQL, restate-server) are the run's.
 */
import { fileURLToPath } from "node:url";
import { Child } from "../nats/child.js";
import { cpuMicros } from "../nats/cpu.js";
import { treeCpuMicros } from "../outbox/cpu-tree.js";
import type { LoadResult } from "./load.js";
import type { RestateServer } from "./restate-server.js";

export const SAGA_IMPLS = ["flotilla-embedded", "flotilla-split", "dbos", "restate"] as const;
export type SagaImpl = (typeof SAGA_IMPLS)[number];

export const LABELS: Record<SagaImpl, string> = {
  "flotilla-embedded": "Flotilla embedded (memory://, SQLite)",
  "flotilla-split": "Flotilla split (NATS, PostgreSQL)",
  dbos: "DBOS (PostgreSQL)",
  restate: "Restate (restate-server)",
};

export interface Servers {
  /** `postgres://user@host:port`, without a database. */
  readonly pg: string;
  readonly pgPid: number;
  readonly nats: string;
  readonly natsPid: number;
  readonly restate: RestateServer | undefined;
}

export interface SagaRun extends LoadResult {
  readonly started: number;
  /** CPU µs per saga started, of each process of the case (the driver's own from its measured interval). */
  readonly cpuPerSagaUs: Record<string, number>;
}

const script = (name: string) => fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
let cases = 0;

/** Runs one case: starts its processes, sends the load, stops them; rejects if any step fails. */
export async function runSagaCase(
  impl: SagaImpl,
  load: { inFlight: number; warm: number; measured: number },
  servers: Servers,
): Promise<SagaRun> {
  const tag = `${process.pid}x${++cases}`;
  const helpers: Child[] = [];
  const others: Record<string, number | undefined> = {};
  let driver: Child;
  try {
    if (impl === "flotilla-embedded") {
      driver = new Child(impl, script("flotilla-worker"), ["--role", "embedded", "--tag", tag]);
    } else if (impl === "flotilla-split") {
      const participants = new Child("participants", script("flotilla-worker"), [
        ...["--role", "participants", "--tag", tag, "--nats", servers.nats],
      ]);
      helpers.push(participants);
      others.participants = Number((await participants.expect("ready")).pid);
      driver = new Child("orchestrator", script("flotilla-worker"), [
        ...["--role", "orchestrator", "--tag", tag, "--nats", servers.nats, "--pg", `${servers.pg}/{service}`],
      ]);
      others["nats-server"] = servers.natsPid;
    } else if (impl === "dbos") {
      driver = new Child(impl, script("dbos-worker"), ["--pg", `${servers.pg}/dbos${tag}`]);
    } else {
      const restate = servers.restate;
      if (restate === undefined) throw new Error("the restate case needs restate-server");
      // The SDK logs every invocation at INFO (read when it loads): only warnings, as the other peers log.
      process.env.RESTATE_LOGGING ??= "WARN";
      const endpoint = new Child("restate-endpoint", script("restate-endpoint"), []);
      helpers.push(endpoint);
      const ready = await endpoint.expect("ready");
      others.endpoint = Number(ready.pid);
      others["restate-server"] = restate.pid;
      await restate.register(`http://127.0.0.1:${ready.port}`);
      driver = new Child("restate-caller", script("restate-worker"), ["--ingress", restate.ingress]);
    }
    helpers.push(driver);
    await driver.expect("ready", 120_000);
    const cpu = (pids: Record<string, number | undefined>) =>
      Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMicros(pid)]));
    const before = { ...cpu(others), postgres: treeCpuMicros(servers.pgPid) };
    driver.send({ run: load });
    const result = (await driver.expect("result", 900_000)).result as LoadResult & { started: number };
    const after = { ...cpu(others), postgres: treeCpuMicros(servers.pgPid) };
    const ended = (result.perSec * result.intervalNs) / 1e9;
    const cpuPerSagaUs: Record<string, number> = { [driverName(impl)]: result.cpuUs / ended };
    for (const k of Object.keys(before)) {
      if (k === "postgres" && (impl === "flotilla-embedded" || impl === "restate")) continue;
      cpuPerSagaUs[k] =
        ((after[k as keyof typeof after] ?? Number.NaN) - (before[k as keyof typeof before] ?? 0)) / result.started;
    }
    return { ...result, cpuPerSagaUs };
  } finally {
    for (const child of helpers.reverse()) await child.stop(30_000);
  }
}

function driverName(impl: SagaImpl): string {
  if (impl === "flotilla-split") return "orchestrator";
  if (impl === "restate") return "caller";
  return impl === "dbos" ? "dbos" : "process";
}
