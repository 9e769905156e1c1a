/** @module Launches a throwaway real Prometheus server scraping given targets, and checks expositions with promtool. */

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { findExecutable, type Launched, launch, onPath, removeDir, terminate, waitUntilReady } from "./process.js";

export interface PrometheusOptions {
  /** `host:port` of each target; all in one job, `flotilla`, scraped at `/metrics`. */
  targets: readonly string[];
  /** Scrape (and rule evaluation) interval in seconds (default 1). */
  scrapeIntervalSec?: number;
  /** Binary to run; default $FLOTILLA_PROMETHEUS, then `prometheus` on PATH, then /usr/bin/prometheus. */
  binary?: string;
  /** Readiness deadline, default 30 000 ms. */
  startTimeoutMs?: number;
}

/** One sample of an instant vector, as `/api/v1/query` answers it. */
export interface PrometheusSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PrometheusTarget {
  readonly instance: string;
  readonly health: "up" | "down" | "unknown";
  readonly lastError: string;
}

export interface PrometheusHandle {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Evaluates a PromQL expression now; an instant vector's samples (a scalar as one sample without labels). */
  query(expr: string): Promise<PrometheusSample[]>;
  /** The active scrape targets and their health. */
  targets(): Promise<PrometheusTarget[]>;
  /** SIGTERM, SIGKILL after 5 s, then removes the data directory. */
  stop(): Promise<void>;
  /** Recent server log output. */
  logs(): string;
}

/** Finds the prometheus binary or throws an error that says how to install it. */
export function resolvePrometheusBinary(explicit?: string): string {
  return resolveTool("prometheus", explicit ?? process.env.FLOTILLA_PROMETHEUS, "FLOTILLA_PROMETHEUS");
}

/** Finds promtool or throws an error that says how to install it. */
export function resolvePromtool(explicit?: string): string {
  return resolveTool("promtool", explicit ?? process.env.FLOTILLA_PROMTOOL, "FLOTILLA_PROMTOOL");
}

function resolveTool(name: string, given: string | undefined, variable: string): string {
  if (given) {
    if (findExecutable([given])) return given;
    throw new Error(`${name} binary "${given}" (from options or ${variable}) does not exist or is not executable.`);
  }
  const found = findExecutable([...onPath(name), `/usr/bin/${name}`]);
  if (found) return found;
  throw new Error(
    `${name} not found on PATH or at /usr/bin/${name}. Install it with \`apt-get install prometheus\` or point ${variable} at the binary.`,
  );
}

/** Starts Prometheus with its storage in a temp dir and resolves once `/-/ready` answers 200. */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusHandle> {
  const binary = resolvePrometheusBinary(opts.binary);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "flotilla-prometheus-"));
  const interval = `${opts.scrapeIntervalSec ?? 1}s`;
  const config = join(dir, "prometheus.yml");
  writeFileSync(config, scrapeConfig(opts.targets, interval));
  const url = `http://127.0.0.1:${port}`;
  const args = [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ];
  let proc: Launched;
  try {
    proc = launch(binary, args, { stopSignal: "SIGTERM", cleanupDir: dir });
    await waitUntilReady(proc, `prometheus (${binary} ${args.join(" ")})`, opts.startTimeoutMs ?? 30_000, async () => {
      const res = await fetch(`${url}/-/ready`).catch(() => undefined);
      return res?.status === 200;
    });
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`prometheus ${path}: ${res.status} ${body.error ?? ""}`);
    return body.data;
  };
  return {
    url,
    async query(expr) {
      const data = await api<{ resultType: string; result: unknown }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      if (data.resultType === "scalar") return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
      if (data.resultType !== "vector") throw new Error(`prometheus: ${expr} gives a ${data.resultType}, not a vector`);
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
        metric: r.metric,
        value: Number(r.value[1]),
      }));
    },
    async targets() {
      const data = await api<{
        activeTargets: { labels: Record<string, string>; health: string; lastError: string }[];
      }>("/api/v1/targets?state=active");
      return data.activeTargets.map((t) => ({
        instance: t.labels.instance ?? "",
        health: t.health as PrometheusTarget["health"],
        lastError: t.lastError,
      }));
    },
    async stop() {
      await terminate(proc, "SIGTERM", 5_000);
      removeDir(dir);
    },
    logs: () => proc.output(),
  };
}

/** YAML is a superset of JSON: the config is written as JSON, with no YAML library. */
function scrapeConfig(targets: readonly string[], interval: string): string {
  return JSON.stringify({
    global: { scrape_interval: interval, evaluation_interval: interval },
    scrape_configs: [{ job_name: "flotilla", scrape_timeout: interval, static_configs: [{ targets }] }],
  });
}

/** What `promtool check metrics` said of an exposition: `ok` when it exited 0; its output either way. */
export interface PromtoolVerdict {
  readonly ok: boolean;
  readonly output: string;
}

/** Pipes a Prometheus text exposition to `promtool check metrics` (names, help, units, suffixes). */
export function checkMetricsWithPromtool(text: string, binary?: string): Promise<PromtoolVerdict> {
  const promtool = resolvePromtool(binary);
  return new Promise((resolve, reject) => {
    const child = spawn(promtool, ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ ok: code === 0, output }));
    child.stdin.end(text);
  });
}

/**
 * Whether a test that needs this tool runs here: always in CI (`CI=true`), where a missing tool must
 * fail the test rather than skip it; elsewhere only when the tool is installed.
 */
export function runsWith(resolve: () => string): boolean {
  if (process.env.CI === "true") return true;
  try {
    resolve();
    return true;
  } catch {
    return false;
  }
}
