/**
 * @module The live push fan-out benchmark: N connections held by client processes, one event pushed to
 * all of them, several rounds; per case the time to open the connections, the server's memory per
 * connection and the delivery latency of every connection. One case at a time (see bench/README.md).
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { caseName, type LiveAudience, type LiveCase } from "./cases.js";
import { type Child, startChild } from "./children.js";
import type { MemorySample } from "./memory.js";
import { openAll, pushRounds } from "./phases.js";
import { CaseProfile } from "./profile-report.js";
import { median, type Spread } from "./stats.js";
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
    const { url } = server.info as { url: string };
    const clients = await Promise.all(
      Array.from({ length: o.clients }, (_, i) =>
        startChild(`client ${i}`, "client-worker.ts", [], join(dir, `client-${i}.log`)),
      ),
    );
    children.push(...clients);

    const before = await server.request<MemorySample>("memory");
    const profile = o.profileDir === undefined ? undefined : new CaseProfile(server, o.profileDir, caseName(c));
    await profile?.startHeap();
    const opening = await openAll(clients, url, c, o, tokens.readers);
    log(
      `  ${opening.opened} open in ${(opening.openMs / 1000).toFixed(1)} s` +
        (Object.keys(opening.failures).length ? `, failures ${JSON.stringify(opening.failures)}` : ""),
    );
    await profile?.stopHeap(opening.opened, log);
    const open = await server.request<MemorySample>("memory");
    const pushing = await pushRounds(server, clients, url, o, {
      publisher: tokens.publisher,
      opened: opening.opened,
      profile,
      log,
    });
    const after = await server.request<MemorySample>("memory");
    const malformed = await Promise.all(clients.map((client) => client.request<number>("malformed")));
    await Promise.all(clients.map((client) => client.request("close")));
    return {
      name: caseName(c),
      case: c,
      ...opening,
      memory: { before, open, after },
      ...pushing,
      malformed: malformed.reduce((a, b) => a + b, 0),
    };
  } catch (err) {
    for (const child of children) log(`--- ${child.label} log ---\n${child.tail()}`);
    throw err;
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The median of the rounds' p99: one slow round (the shared machine) does not make the figure. */
export function medianRoundP99(result: LiveCaseResult): number {
  return median(result.rounds.map((r) => r.p99));
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
