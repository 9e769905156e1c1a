/** @module The two phases of a live fan-out case: opening every connection, then pushing events round by round. */
import { setTimeout as sleep } from "node:timers/promises";
import { cpuMicros } from "../nats/cpu.js";
import { BROADCAST_PATH, type LiveCase } from "./cases.js";
import type { Child } from "./children.js";
import type { OpenResult, RoundResult } from "./client-worker.js";
import type { CaseProfile } from "./profile-report.js";
import { spread } from "./stats.js";
import type { LiveCaseResult, LiveSuiteOptions, RoundFigures } from "./suite.js";

/** Every client opens its share of the connections at once; the time is the suite's, first attempt to last `ready`. */
export async function openAll(
  clients: readonly Child[],
  url: string,
  c: LiveCase,
  o: LiveSuiteOptions,
  readers: readonly string[],
): Promise<Pick<LiveCaseResult, "opened" | "openMs" | "failures">> {
  const share = Math.ceil(o.connections / o.clients);
  const started = performance.now();
  const opens = await Promise.all(
    clients.map((client, i) =>
      client.request<OpenResult>(
        "open",
        {
          url,
          protocol: c.protocol,
          tokens: readers.slice(i * share, (i + 1) * share),
          concurrency: o.openConcurrency,
        },
        600_000,
      ),
    ),
  );
  const openMs = performance.now() - started;
  const failures: Record<string, number> = {};
  for (const r of opens) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
  return { opened: opens.reduce((n, r) => n + r.opened, 0), openMs, failures };
}

type Pushing = Pick<
  LiveCaseResult,
  "rounds" | "overall" | "missing" | "duplicates" | "serverCpuUsPerEvent" | "clientCpuUsPerEvent"
>;

/**
 * Warm-up rounds, then the measured ones: each an event (`POST /api/v1/broadcast`), then every client's
 * latencies once all its connections have it (or the round's time is up).
 */
export async function pushRounds(
  server: Child,
  clients: readonly Child[],
  url: string,
  o: LiveSuiteOptions,
  run: { publisher: string; opened: number; profile: CaseProfile | undefined; log: (line: string) => void },
): Promise<Pushing> {
  const rounds: RoundFigures[] = [];
  const all: number[] = [];
  let cpu = { server: 0, clients: 0 };
  for (let round = 0; round < o.warmupRounds + o.rounds; round++) {
    if (round === o.warmupRounds) {
      await run.profile?.startCpu();
      cpu = cpuOf(server, clients);
    }
    const res = await fetch(new URL(BROADCAST_PATH, url), {
      method: "POST",
      headers: { authorization: `Bearer ${run.publisher}`, "content-type": "application/json" },
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
      for (const v of latencies) all.push(v);
      const figures: RoundFigures = {
        round: round - o.warmupRounds + 1,
        ...spread(latencies),
        // Connections that never opened miss every round; they are reported as failures to open.
        missing: got.reduce((n, g) => n + g.missing, 0) - (o.connections - run.opened),
        duplicates: got.reduce((n, g) => n + g.duplicates, 0),
      };
      rounds.push(figures);
      run.log(
        `  round ${figures.round}: p50 ${ms(figures.p50)} p99 ${ms(figures.p99)} max ${ms(figures.max)}, missing ${figures.missing}`,
      );
    }
    await sleep(o.gapMs);
  }
  const cpuAfter = cpuOf(server, clients);
  await run.profile?.stopCpu(run.log);
  return {
    rounds,
    overall: spread(all),
    missing: rounds.reduce((n, r) => n + r.missing, 0),
    duplicates: rounds.reduce((n, r) => n + r.duplicates, 0),
    serverCpuUsPerEvent: (cpuAfter.server - cpu.server) / o.rounds,
    clientCpuUsPerEvent: (cpuAfter.clients - cpu.clients) / o.rounds,
  };
}

function cpuOf(server: Child, clients: readonly Child[]) {
  return { server: cpuMicros(server.pid), clients: clients.reduce((n, c) => n + cpuMicros(c.pid), 0) };
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(1)} ms`;
}
