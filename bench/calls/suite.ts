/**
 * @module The in-process call benchmark: each case runs in a child process of its own (same process
 * tree, no shared JIT or heap state), and the results are printed side by side with ratios.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ns, ops, ratio, table } from "../lib/report.js";
import { CONFIGS, type Config, IMPLS, type Impl } from "./cases.js";

export interface SuiteOptions {
  impls: readonly Impl[];
  configs: readonly Config[];
  /** 1 = sequential awaited calls; more = batches of that many concurrent calls. */
  concurrencies: readonly number[];
  timeMs: number;
  warmupMs: number;
  /** Runs per case, interleaved; the best throughput is kept (noise on a shared machine only slows). */
  repeat: number;
}

export interface Result {
  impl: Impl;
  config: Config;
  concurrency: number;
  opsPerSec: number;
  p50Ns: number;
  p99Ns: number;
  totalOps: number;
  checks: Record<string, number | string>;
}

const LABELS: Record<Impl, string> = {
  direct: "direct async function",
  moleculer: "Moleculer broker.call (local)",
  flotilla: "Flotilla ctx.call, memory://",
  "flotilla-faithful": "Flotilla ctx.call, memory://?faithful=1",
};

const CONFIG_LABELS: Record<Config, string> = {
  bare: "bare (no tracing, no metrics)",
  observed: "tracing (OpenTelemetry SDK, batch exporter) + metrics",
  recorded: "tracing (Flotilla's recorder into its embedded store; Moleculer as in observed) + metrics",
};

const worker = fileURLToPath(new URL("./worker.ts", import.meta.url));

export async function runSuite(o: SuiteOptions, log: (line: string) => void): Promise<Result[]> {
  const best = new Map<string, Result>();
  for (let round = 1; round <= o.repeat; round++) {
    for (const concurrency of o.concurrencies) {
      for (const config of o.configs) {
        for (const impl of o.impls) {
          const r = await runCase(impl, config, concurrency, o);
          const key = `${impl}/${config}/${concurrency}`;
          log(`  round ${round}/${o.repeat} ${key.padEnd(32)} ${ops(r.opsPerSec).padStart(7)} ops/s`);
          const prev = best.get(key);
          if (prev === undefined || r.opsPerSec > prev.opsPerSec) best.set(key, r);
        }
      }
    }
  }
  return [...best.values()];
}

function runCase(impl: Impl, config: Config, concurrency: number, o: SuiteOptions): Promise<Result> {
  const args = [
    ...process.execArgv,
    worker,
    ...["--impl", impl, "--config", config, "--concurrency", String(concurrency)],
    ...["--time", String(o.timeMs), "--warmup", String(o.warmupMs)],
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      const last = out.trim().split("\n").pop() ?? "";
      if (code !== 0) return reject(new Error(`${impl}/${config} exited with ${code}: ${out}`));
      resolve(JSON.parse(last) as Result);
    });
  });
}

export function render(results: readonly Result[]): string {
  const out: string[] = [];
  const concurrencies = [...new Set(results.map((r) => r.concurrency))];
  for (const concurrency of concurrencies) {
    for (const config of CONFIGS) {
      const rows = results.filter((r) => r.concurrency === concurrency && r.config === config);
      if (rows.length === 0) continue;
      const moleculer = rows.find((r) => r.impl === "moleculer")?.opsPerSec;
      const direct = rows.find((r) => r.impl === "direct")?.opsPerSec;
      const mode = concurrency === 1 ? "sequential awaited calls" : `batches of ${concurrency} concurrent calls`;
      out.push(`### ${CONFIG_LABELS[config]} — ${mode}\n`);
      out.push(
        table(
          ["case", "ops/s", "p50", "p99", "vs Moleculer", "vs direct"],
          IMPLS.flatMap((impl) => {
            const r = rows.find((x) => x.impl === impl);
            if (r === undefined) return [];
            return [
              [
                LABELS[impl],
                ops(r.opsPerSec),
                ns(r.p50Ns),
                ns(r.p99Ns),
                ratio(r.opsPerSec, moleculer),
                ratio(r.opsPerSec, direct),
              ],
            ];
          }),
        ),
      );
      const checks = rows.filter((r) => Object.keys(r.checks).length > 0);
      if (checks.length > 0) {
        out.push("");
        for (const r of checks)
          out.push(
            `- ${LABELS[r.impl]}: ${Object.entries(r.checks)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ")}`,
          );
      }
      out.push("");
    }
  }
  return out.join("\n");
}

/** The issue's goals: Flotilla ≥ 1× Moleculer bare and ≥ 3× Moleculer with tracing + metrics. */
export function goals(results: readonly Result[]): string[] {
  const lines: string[] = [];
  const target: Record<Config, number> = { bare: 1, observed: 3, recorded: 3 };
  for (const r of results) {
    if (r.impl !== "flotilla" && r.impl !== "flotilla-faithful") continue;
    const m = results.find((x) => x.impl === "moleculer" && x.config === r.config && x.concurrency === r.concurrency);
    if (m === undefined) continue;
    const x = r.opsPerSec / m.opsPerSec;
    const verdict = x >= target[r.config] ? "met" : "MISSED";
    lines.push(
      `${LABELS[r.impl]}, ${r.config}, concurrency ${r.concurrency}: ${x.toFixed(2)}× Moleculer (goal ≥ ${target[r.config]}×) ${verdict}`,
    );
  }
  return lines;
}
