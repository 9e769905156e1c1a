/**
 * @module The distributed RPC benchmark: per case a serving process and a calling process, each with
 * its own connection to the run's nats-server, started fresh for the case and stopped after it.
 */
import { fileURLToPath } from "node:url";
import { ns, ops, ratio, table } from "../lib/report.js";
import { Child } from "./child.js";
import { perOp, snapshot } from "./cpu.js";
import { RPC_EXTRA_IMPLS, RPC_IMPLS, type RpcImpl } from "./rpc-cases.js";

export interface RpcSuiteOptions {
  impls: readonly RpcImpl[];
  /** Calls in flight at once: 1 = sequential. */
  inFlight: readonly number[];
  timeMs: number;
  warmupMs: number;
  repeat: number;
  url: string;
  /** The worker script to run (profile.ts passes a bundle of it, for line-level profiles). */
  worker?: string;
  /** The nats-server's pid, to read its CPU time. */
  natsPid?: number;
  /** Node flags for the serving and the calling process (profiling). */
  serverFlags?: readonly string[];
  clientFlags?: readonly string[];
}

export interface RpcResult {
  impl: RpcImpl;
  inFlight: number;
  opsPerSec: number;
  p50Ns: number;
  p99Ns: number;
  ops: number;
  /** Calls the client made (warm-up included) and requests the server answered: equal in a clean run. */
  totalOps: number;
  handled: number;
  /** CPU time per call in the measured phase (µs) of the calling process, the serving one and nats-server. */
  cpuUs: Record<"client" | "server" | "nats", number>;
}

export const RPC_LABELS: Record<RpcImpl, string> = {
  raw: "raw NATS nc.request()",
  "raw-traces": "raw NATS nc.request(), async traces on",
  "raw-headers": "raw NATS nc.request() + Flotilla's 4 headers",
  flotilla: "Flotilla ctx.call over NATS",
  moleculer: "Moleculer broker.call over NATS",
};

const worker = fileURLToPath(new URL("./rpc-worker.ts", import.meta.url));

export async function runRpcSuite(o: RpcSuiteOptions, log: (line: string) => void): Promise<RpcResult[]> {
  const best = new Map<string, RpcResult>();
  for (let round = 1; round <= o.repeat; round++) {
    for (const inFlight of o.inFlight) {
      for (const impl of o.impls) {
        const r = await runCase(impl, inFlight, o);
        const key = `${impl}/${inFlight}`;
        log(
          `  round ${round}/${o.repeat} rpc ${key.padEnd(14)} ${ops(r.opsPerSec).padStart(7)} calls/s  p50 ${ns(r.p50Ns)}  p99 ${ns(r.p99Ns)}`,
        );
        const prev = best.get(key);
        if (prev === undefined || r.opsPerSec > prev.opsPerSec) best.set(key, r);
      }
    }
  }
  return [...best.values()];
}

async function runCase(impl: RpcImpl, inFlight: number, o: RpcSuiteOptions): Promise<RpcResult> {
  const common = ["--impl", impl, "--url", o.url];
  const server = new Child(`rpc server ${impl}`, o.worker ?? worker, ["--role", "server", ...common], o.serverFlags);
  try {
    await server.expect("ready", 60_000);
    const client = new Child(
      `rpc client ${impl}`,
      o.worker ?? worker,
      [
        ...["--role", "client", ...common],
        ...["--in-flight", String(inFlight), "--time", String(o.timeMs), "--warmup", String(o.warmupMs)],
      ],
      o.clientFlags,
    );
    await client.expect("measuring", o.warmupMs + 120_000);
    const pids = { client: client.pid, server: server.pid, nats: o.natsPid };
    const before = snapshot(pids);
    const { result } = (await client.expect("result", o.timeMs + 120_000)) as {
      result: Omit<RpcResult, "handled" | "cpuUs">;
    };
    const cpuUs = perOp(before, snapshot(pids), result.ops) as RpcResult["cpuUs"];
    await client.stop();
    server.end();
    const { handled } = (await server.expect("handled", 30_000)) as { handled: number };
    return { ...result, handled, cpuUs };
  } finally {
    await server.stop();
  }
}

export function us(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(1)} µs` : "–";
}

export function renderRpc(results: readonly RpcResult[]): string {
  const out: string[] = [];
  for (const inFlight of [...new Set(results.map((r) => r.inFlight))]) {
    const rows = results.filter((r) => r.inFlight === inFlight);
    const raw = rows.find((r) => r.impl === "raw");
    const moleculer = rows.find((r) => r.impl === "moleculer");
    const mode = inFlight === 1 ? "1 in flight (sequential awaited calls)" : `${inFlight} calls in flight`;
    out.push(`### RPC over NATS — ${mode}\n`);
    out.push(
      table(
        [
          "case",
          "calls/s",
          "p50",
          "p99",
          "vs raw",
          "vs Moleculer",
          "p50 vs raw",
          "CPU/call client",
          "server",
          "nats-server",
          "sum",
        ],
        [...RPC_IMPLS, ...RPC_EXTRA_IMPLS].flatMap((impl) => {
          const r = rows.find((x) => x.impl === impl);
          if (r === undefined) return [];
          return [
            [
              RPC_LABELS[impl],
              ops(r.opsPerSec),
              ns(r.p50Ns),
              ns(r.p99Ns),
              ratio(r.opsPerSec, raw?.opsPerSec),
              ratio(r.opsPerSec, moleculer?.opsPerSec),
              ratio(r.p50Ns, raw?.p50Ns),
              us(r.cpuUs.client),
              us(r.cpuUs.server),
              us(r.cpuUs.nats),
              us(r.cpuUs.client + r.cpuUs.server + r.cpuUs.nats),
            ],
          ];
        }),
      ),
    );
    out.push("");
    out.push(
      `Work done (calls made = requests answered, warm-up included): ${rows
        .map((r) => `${r.impl} ${r.totalOps}/${r.handled}${r.totalOps === r.handled ? "" : " MISMATCH"}`)
        .join(", ")}`,
    );
    out.push("");
  }
  return out.join("\n");
}

/** Goals: Flotilla's sequential p50 ≤ 1.1× raw NATS; at 100 in flight Flotilla ≥ 1.2× Moleculer. */
export function rpcGoals(results: readonly RpcResult[]): string[] {
  const lines: string[] = [];
  const find = (impl: RpcImpl, inFlight: number) => results.find((r) => r.impl === impl && r.inFlight === inFlight);
  const f1 = find("flotilla", 1);
  const r1 = find("raw", 1);
  if (f1 && r1) {
    const x = f1.p50Ns / r1.p50Ns;
    lines.push(
      `Flotilla over NATS, 1 in flight: p50 ${ns(f1.p50Ns)} = ${x.toFixed(2)}× raw NATS ${ns(r1.p50Ns)} (goal ≤ 1.1×) ${x <= 1.1 ? "met" : "MISSED"}`,
    );
  }
  const f100 = find("flotilla", 100);
  const m100 = find("moleculer", 100);
  if (f100 && m100) {
    const x = f100.opsPerSec / m100.opsPerSec;
    lines.push(
      `Flotilla over NATS, 100 in flight: ${x.toFixed(2)}× Moleculer calls/s (goal ≥ 1.2×) ${x >= 1.2 ? "met" : "MISSED"}`,
    );
  }
  return lines;
}
