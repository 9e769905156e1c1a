/** @module The live fan-out's tables: each case's figures, then the Flotilla cases against their floor. */
import { ratio, table } from "../lib/report.js";
import { caseName } from "./cases.js";
import type { MemorySample } from "./memory.js";
import { type LiveCaseResult, type LiveSuiteResult, medianRoundP99 } from "./suite.js";

const ms = (us: number) => (Number.isFinite(us) ? `${(us / 1000).toFixed(1)} ms` : "–");
const kib = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : "–");
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** Bytes per open connection of one memory figure: (with the connections − before) ÷ connections. */
function perConnection(r: LiveCaseResult, key: keyof MemorySample, at: "open" | "after" = "open"): number {
  return (r.memory[at][key] - r.memory.before[key]) / r.opened;
}

export function renderLive(suite: LiveSuiteResult): string {
  const o = suite.options;
  const lines = [
    `${o.connections} connections over ${o.clients} client processes, audience \`${o.audience}\`; ` +
      `${o.warmupRounds} warm-up + ${o.rounds} measured events, ${o.gapMs} ms apart; memory after a full GC.`,
    "",
    table(
      [
        "case",
        "open",
        "open s",
        "RSS/conn",
        "heap/conn",
        "ext/conn",
        "RSS before→open",
        "p50",
        "p99",
        "p99 (median round)",
        "max",
        "missing",
        "server CPU/event",
        "clients CPU/event",
      ],
      suite.results.map((r) => [
        r.name,
        String(r.opened),
        (r.openMs / 1000).toFixed(1),
        kib(perConnection(r, "rssBytes")),
        kib(perConnection(r, "heapUsedBytes")),
        kib(perConnection(r, "externalBytes")),
        `${mib(r.memory.before.rssBytes)}→${mib(r.memory.open.rssBytes)}`,
        ms(r.overall.p50),
        ms(r.overall.p99),
        ms(medianRoundP99(r)),
        ms(r.overall.max),
        String(r.missing),
        ms(r.serverCpuUsPerEvent),
        ms(r.clientCpuUsPerEvent),
      ]),
    ),
  ];
  const pairs = suite.results
    .filter((r) => r.case.server === "flotilla")
    .map((r) => [r, suite.results.find((p) => p.name === caseName({ ...r.case, server: "raw" }))] as const)
    .filter((pair): pair is readonly [LiveCaseResult, LiveCaseResult] => pair[1] !== undefined);
  if (pairs.length > 0) {
    lines.push(
      "",
      "Flotilla ÷ raw Node (same protocol; lower is better):",
      "",
      table(
        ["case", "open time", "RSS/conn", "heap/conn", "p50", "p99", "p99 (median round)", "server CPU/event"],
        pairs.map(([f, raw]) => [
          `${f.name} ÷ ${raw.name}`,
          ratio(f.openMs, raw.openMs),
          ratio(perConnection(f, "rssBytes"), perConnection(raw, "rssBytes")),
          ratio(perConnection(f, "heapUsedBytes"), perConnection(raw, "heapUsedBytes")),
          ratio(f.overall.p50, raw.overall.p50),
          ratio(f.overall.p99, raw.overall.p99),
          ratio(medianRoundP99(f), medianRoundP99(raw)),
          ratio(f.serverCpuUsPerEvent, raw.serverCpuUsPerEvent),
        ]),
      ),
    );
  }
  const broken = suite.results.filter(
    (r) => r.missing > 0 || r.duplicates > 0 || r.malformed > 0 || r.opened < o.connections,
  );
  for (const r of broken) {
    lines.push(
      "",
      `!!! ${r.name}: ${r.opened}/${o.connections} opened (${JSON.stringify(r.failures)}), ${r.missing} deliveries missing, ` +
        `${r.duplicates} duplicated, ${r.malformed} malformed messages`,
    );
  }
  if (broken.length === 0) lines.push("", `Every open connection received every event exactly once.`);
  lines.push("", `/proc/loadavg: ${suite.loadavg.join(" | ")}`);
  return lines.join("\n");
}
