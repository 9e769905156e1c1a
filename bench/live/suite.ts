/**
 * @module The live push fan-out benchmark: N connections held by client processes, one event pushed to
 * all of them, several rounds; per case the time to open the connections, the server's memory per
 * connection and the delivery latency of every connection. One case at a time (see bench/README.md).
 */

import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { cpuMicros } from "../nats/cpu.js";
import { BROADCAST_PATH, caseName, type LiveAudience, type LiveCase } from "./cases.js";
import { type Child, startChild } from "./children.js";
import type { OpenResult, RoundResult } from "./client-worker.js";
import type { MemorySample } from "./memory.js";
import { CaseProfile } from "./profile-report.js";
import { median, type Spread, spread } from "./stats.js";
import { type FanoutTokens, fanoutTokens } from "./tokens.js";

export interface LiveSuiteOptions {
  readonly cases: readonly LiveCase[];
  readonly connections: number;
  /** Client processes sharing the connections. */
  readonly clients: number;
  readonly audience: LiveAudience;
  /** Untimed rounds first (JIT, first-use allocations), then the measured ones. */
  readonly warmupRounds: number;
  readonly rounds: number;
  /** Pause between the end of one round and the next event. */
  readonly gapMs: number;
  /** Connections each client process opens at once. */
  readonly openConcurrency: number;
  /** How long a round waits for every connection to have the event before counting the rest missing. */
  readonly roundTimeoutMs: number;
  /** Profile each server (see profile-report.ts) and keep the profiles in this directory. */
  readonly profileDir?: string;
}

export interface RoundFigures extends Spread {
  readonly round: number;
  readonly missing: number;
  readonly duplicates: number;
}

export interface LiveCaseResult {
  readonly name: string;
  readonly case: LiveCase;
  readonly opened: number;
  readonly openMs: number;
  readonly failures: Record<string, number>;
  readonly memory: { before: MemorySample; open: MemorySample; after: MemorySample };
  readonly rounds: RoundFigures[];
  /** Every measured delivery together, µs. */
  readonly overall: Spread;
  readonly missing: number;
  readonly duplicates: number;
  readonly malformed: number;
  /** CPU time per event over the measured rounds: the server's, and the client processes' together, µs. */
  readonly serverCpuUsPerEvent: number;
  readonly clientCpuUsPerEvent: number;
}

export interface LiveSuiteResult {
  readonly options: LiveSuiteOptions;
  readonly loadavg: string[];
  readonly results: LiveCaseResult[];
}

export async function runLiveSuite(options: LiveSuiteOptions, log: (line: string) => void): Promise<LiveSuiteResult> {
  checkOpenFiles(options);
  const tokens = await fanoutTokens(options.connections, options.audience);
  const loadavg: string[] = [];
  const results: LiveCaseResult[] = [];
  for (const c of options.cases) {
    loadavg.push(`${new Date().toISOString().slice(11, 19)} ${readFileSync("/proc/loadavg", "utf8").trim()}`);
    log(`live: ${caseName(c)}, ${options.connections} connections over ${options.clients} client processes`);
    results.push(await runCase(c, options, tokens, log));
  }
  loadavg.push(`${new Date().toISOString().slice(11, 19)} ${readFileSync("/proc/loadavg", "utf8").trim()}`);
  return { options, loadavg, results };
}

async function runCase(
  c: LiveCase,
  o: LiveSuiteOptions,
  tokens: FanoutTokens,
  log: (line: string) => void,
): Promise<LiveCaseResult> {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-bench-live-"));
  const children: Child[] = [];
  try {
    const server =
      c.server === "flotilla"
        ? await startChild(
            "gateway",
            "gateway-worker.ts",
            [
              ...["--audience", o.audience, "--max-connections", String(o.connections)],
              ...["--jwk", JSON.stringify(tokens.key.jwk), "--data-dir", join(dir, "data")],
            ],
            join(dir, "server.log"),
          )
        : await startChild("raw server", "raw-worker.ts", [], join(dir, "server.log"));
    children.push(server);
    const { url } = await server.request<{ url: string }>("ready");
    const clients = await Promise.all(
      Array.from({ length: o.clients }, (_, i) =>
        startChild(`client ${i}`, "client-worker.ts", [], join(dir, `client-${i}.log`)),
      ),
    );
    children.push(...clients);

    const before = await server.request<MemorySample>("memory");
    const profile = o.profileDir === undefined ? undefined : new CaseProfile(server, o.profileDir, caseName(c));
    await profile?.startHeap();
    const share = Math.ceil(o.connections / o.clients);
    const started = performance.now();
    const opens = await Promise.all(
      clients.map((client, i) =>
        client.request<OpenResult>(
          "open",
          {
            url,
            protocol: c.protocol,
            tokens: tokens.readers.slice(i * share, (i + 1) * share),
            concurrency: o.openConcurrency,
          },
          600_000,
        ),
      ),
    );
    const openMs = performance.now() - started;
    const opened = opens.reduce((n, r) => n + r.opened, 0);
    const failures: Record<string, number> = {};
    for (const r of opens) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
    log(
      `  ${opened} open in ${(openMs / 1000).toFixed(1)} s${Object.keys(failures).length ? `, failures ${JSON.stringify(failures)}` : ""}`,
    );
    await profile?.stopHeap(opened, log);
    const open = await server.request<MemorySample>("memory");

    const rounds: RoundFigures[] = [];
    const all: number[] = [];
    let cpu = { server: 0, clients: 0 };
    for (let round = 0; round < o.warmupRounds + o.rounds; round++) {
      if (round === o.warmupRounds) {
        await profile?.startCpu();
        cpu = cpuOf(server, clients);
      }
      const res = await fetch(new URL(BROADCAST_PATH, url), {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.publisher}`, "content-type": "application/json" },
        body: JSON.stringify({ round }),
      });
      if (!res.ok) throw new Error(`broadcast answered ${res.status}: ${await res.text()}`);
      const got = await Promise.all(
        clients.map((client) =>
          client.request<RoundResult>("collect", { round, timeoutMs: o.roundTimeoutMs }, o.roundTimeoutMs + 30_000),
        ),
      );
      if (round >= o.warmupRounds) {
        const latencies = got.flatMap((g) => g.latenciesUs);
        all.push(...latencies);
        const figures = {
          round: round - o.warmupRounds + 1,
          ...spread(latencies),
          missing: got.reduce((n, g) => n + g.missing, 0) - (o.connections - opened),
          duplicates: got.reduce((n, g) => n + g.duplicates, 0),
        };
        rounds.push(figures);
        log(
          `  round ${figures.round}: p50 ${ms(figures.p50)} p99 ${ms(figures.p99)} max ${ms(figures.max)}, missing ${figures.missing}`,
        );
      }
      await sleep(o.gapMs);
    }
    const cpuAfter = cpuOf(server, clients);
    await profile?.stopCpu(log);
    const after = await server.request<MemorySample>("memory");
    const malformed = (await Promise.all(clients.map((client) => client.request<number>("malformed")))).reduce(
      (a, b) => a + b,
      0,
    );
    await Promise.all(clients.map((client) => client.request("close")));
    return {
      name: caseName(c),
      case: c,
      opened,
      openMs,
      failures,
      memory: { before, open, after },
      rounds,
      overall: spread(all),
      missing: rounds.reduce((n, r) => n + r.missing, 0),
      duplicates: rounds.reduce((n, r) => n + r.duplicates, 0),
      malformed,
      serverCpuUsPerEvent: (cpuAfter.server - cpu.server) / o.rounds,
      clientCpuUsPerEvent: (cpuAfter.clients - cpu.clients) / o.rounds,
    };
  } catch (err) {
    for (const child of children) log(`--- ${child.label} log ---\n${child.tail()}`);
    throw err;
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

function cpuOf(server: Child, clients: readonly Child[]) {
  return { server: cpuMicros(server.pid), clients: clients.reduce((n, c) => n + cpuMicros(c.pid), 0) };
}

/** The median of the rounds' p99: one slow round (the shared machine) does not make the figure. */
export function medianRoundP99(result: LiveCaseResult): number {
  return median(result.rounds.map((r) => r.p99));
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(1)} ms`;
}

/**
 * Every connection is a file descriptor at both ends: the server holds all of them, each client its
 * share. Node raises its soft limit to the hard one at start-up, so the hard limit is what counts.
 */
function checkOpenFiles(o: LiveSuiteOptions): void {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const hard = Number(line?.trim().split(/\s+/)[4]);
  const needed = o.connections + 256;
  if (Number.isFinite(hard) && hard < needed) {
    throw new Error(
      `${o.connections} connections need ${needed} open files in the server process; the hard limit is ${hard} ` +
        "(raise it, e.g. `ulimit -Hn 65536` as root, or run fewer with --live-connections)",
    );
  }
}
