/**
 * @module The transactional-outbox benchmark: what an event emitted in a write's transaction costs the
 * write (SQLite and PostgreSQL), and how long a committed event takes to reach its handler at a steady
 * rate (embedded: in-process transport with the SQLite event journal; distributed: NATS + PostgreSQL).
 * Every case runs in fresh child processes; PostgreSQL and nats-server are started once for the suite.
 */
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { ns, ops, ratio, table } from "../lib/report.js";
import { Child } from "../nats/child.js";
import { cpuMicros } from "../nats/cpu.js";
import { percentile } from "../nats/measure.js";
import { us } from "../nats/rpc-suite.js";
import { type BenchServer, startBenchServer } from "../nats/server.js";
import { treeCpuMicros } from "./cpu-tree.js";
import { type BenchPostgres, startBenchPostgres } from "./postgres.js";
import { baselineOf, type Db, WRITE_LABELS, type WriteImpl } from "./write-cases.js";

export const LATENCY_CASES = ["embedded", "nats"] as const;
/** The rate the latency goals are stated at. */
const GOAL_RATE = 1000;
export type LatencyCase = (typeof LATENCY_CASES)[number];

export interface OutboxSuiteOptions {
  dbs: readonly Db[];
  writeImpls: readonly WriteImpl[];
  latency: readonly LatencyCase[];
  timeMs: number;
  warmupMs: number;
  repeat: number;
  /** Events per second in the latency cases: each case runs at each rate. */
  rates: readonly number[];
  latencyTimeMs: number;
  latencyWarmupMs: number;
  /** PostgreSQL with durable commits (fsync, synchronous_commit on) instead of the test helper's settings. */
  pgDurable?: boolean;
  /** Worker scripts to run instead of the sources (profile.ts passes bundles), and node flags per role. */
  writeWorker?: string;
  latencyWorker?: string;
  flags?: Partial<Record<"write" | "embedded" | "emitter" | "consumer", readonly string[]>>;
}

export interface WriteResult {
  db: Db;
  impl: WriteImpl;
  opsPerSec: number;
  p50Ns: number;
  p99Ns: number;
  ops: number;
  totalOps: number;
  rows: number;
  outboxRows: number | null;
  cpuUs: { worker: number; postgres: number | null };
  /** PostgreSQL statements per write (warm-up included), counted by pg_stat_statements. */
  statements?: number;
}

export interface LatencyResult {
  kind: LatencyCase;
  rate: number;
  /** Measured events committed per second (first due → last commit). */
  achievedPerSec: number;
  measured: number;
  handled: number;
  missing: number;
  duplicates: number;
  errors: number;
  firstError?: string;
  outboxLeft: number;
  /** Commit → handler start. */
  commit: Percentiles;
  /** Due (scheduled) → handler start: includes the write itself and any lateness of the pacer. */
  scheduled: Percentiles;
  /** Due → commit: the emitting call under this load. */
  write: Percentiles;
  lateP99Ns: number;
  lateMaxNs: number;
  /** CPU per measured event (µs) of each process. */
  cpuUs: Record<string, number>;
  /** PostgreSQL statements per event (warm-up included) in the source's and the sink's database. */
  statements?: { source: number; sink: number };
}

interface Percentiles {
  p50Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
}

const writeWorker = fileURLToPath(new URL("./write-worker.ts", import.meta.url));
const latencyWorker = fileURLToPath(new URL("./latency-worker.ts", import.meta.url));

export interface OutboxResults {
  write: WriteResult[];
  latency: LatencyResult[];
  machine: { loadStart: number[]; loadEnd: number[]; postgres?: string; nats?: string };
}

export async function runOutboxSuite(o: OutboxSuiteOptions, log: (line: string) => void): Promise<OutboxResults> {
  const loadStart = loadavg();
  const needPg = (o.dbs.includes("postgres") && o.writeImpls.length > 0) || o.latency.includes("nats");
  let pg: BenchPostgres | undefined;
  let nats: BenchServer | undefined;
  const write: WriteResult[] = [];
  const latency: LatencyResult[] = [];
  let seq = 0;
  try {
    if (needPg) {
      pg = await startBenchPostgres(o.pgDurable ?? false);
      log(`  ${pg.description} on ${pg.base} (pid ${pg.handle.pid})`);
    }
    if (o.latency.includes("nats")) nats = await startBenchServer();
    const best = new Map<string, WriteResult>();
    for (let round = 1; round <= o.repeat; round++) {
      for (const db of o.dbs) {
        for (const impl of o.writeImpls) {
          const r = await runWrite(db, impl, o, pg, ++seq);
          log(
            `  round ${round}/${o.repeat} write ${`${db}/${impl}`.padEnd(24)} ${ops(r.opsPerSec).padStart(6)} ops/s  p50 ${ns(r.p50Ns)}  p99 ${ns(r.p99Ns)}  CPU/op ${us(r.cpuUs.worker)}${r.cpuUs.postgres === null ? "" : ` + pg ${us(r.cpuUs.postgres)}`}`,
          );
          const key = `${db}/${impl}`;
          const prev = best.get(key);
          if (prev === undefined || r.opsPerSec > prev.opsPerSec) best.set(key, r);
        }
      }
    }
    write.push(...best.values());
    for (const rate of o.rates) {
      for (const kind of o.latency) {
        const r = await runLatency(kind, rate, o, pg, nats, ++seq);
        log(
          `  latency ${kind.padEnd(8)} ${rate}/s: ${ops(r.achievedPerSec)} events/s  commit→handler p50 ${ns(r.commit.p50Ns)}  p99 ${ns(r.commit.p99Ns)}  max ${ns(r.commit.maxNs)}  due→handler p99 ${ns(r.scheduled.p99Ns)}`,
        );
        latency.push(r);
        await nats?.reset();
      }
    }
  } finally {
    await nats?.stop();
    await pg?.stop();
  }
  return {
    write,
    latency,
    machine: {
      loadStart,
      loadEnd: loadavg(),
      ...(pg === undefined ? {} : { postgres: pg.description }),
      ...(nats === undefined ? {} : { nats: nats.version }),
    },
  };
}

async function runWrite(
  db: Db,
  impl: WriteImpl,
  o: OutboxSuiteOptions,
  pg: BenchPostgres | undefined,
  seq: number,
): Promise<WriteResult> {
  const args = ["--db", db, "--impl", impl, "--time", String(o.timeMs), "--warmup", String(o.warmupMs)];
  args.push("--service", `w${seq}-${impl.replaceAll("-", "")}`);
  if (db === "postgres") {
    if (pg === undefined) throw new Error("postgres is not running");
    args.push("--pg-base", pg.base, "--pg-pid", String(pg.handle.pid));
    await pg.resetStatements();
  }
  const child = new Child(`write ${db}/${impl}`, o.writeWorker ?? writeWorker, args, o.flags?.write);
  try {
    const { result } = (await child.expect("result", o.timeMs + o.warmupMs + 120_000)) as { result: WriteResult };
    const counted = await pg?.statements(result.totalOps / 20);
    if (db === "postgres" && counted !== undefined) {
      result.statements = Object.values(counted).reduce((a, b) => a + b, 0) / result.totalOps;
    }
    return result;
  } finally {
    await child.stop();
  }
}

interface Emitted {
  count: number;
  warm: number;
  startNs: number;
  intervalNs: number;
  errors: number;
  firstError?: string;
  outboxLeft: number;
  lateP99Ns: number;
  lateMaxNs: number;
  cpuMeasuredUs: number;
  commitNs: (number | null)[];
}

interface Handled {
  handled: number;
  duplicates: number;
  handledNs: (number | null)[];
}

async function runLatency(
  kind: LatencyCase,
  rate: number,
  o: OutboxSuiteOptions,
  pg: BenchPostgres | undefined,
  nats: BenchServer | undefined,
  seq: number,
): Promise<LatencyResult> {
  const common = [
    ...["--rate", String(rate), "--time", String(o.latencyTimeMs), "--warmup", String(o.latencyWarmupMs)],
    ...["--tag", `l${seq}`],
  ];
  const timeout = o.latencyTimeMs + o.latencyWarmupMs + 120_000;
  if (kind === "embedded") {
    const child = new Child(
      "latency embedded",
      o.latencyWorker ?? latencyWorker,
      ["--role", "embedded", ...common],
      o.flags?.embedded,
    );
    try {
      await child.expect("ready", 60_000);
      child.send({ go: true });
      await child.expect("measuring", timeout);
      const msg = (await child.expect("emitted", timeout)) as { emitted: Emitted; handled: Handled };
      const measured = msg.emitted.count - msg.emitted.warm;
      return summarize(kind, rate, msg.emitted, msg.handled, { process: msg.emitted.cpuMeasuredUs / measured });
    } finally {
      await child.stop();
    }
  }
  if (pg === undefined || nats === undefined) throw new Error("postgres and nats-server must be running");
  const remote = [...common, "--nats", nats.url, "--pg", `${pg.base}/{service}`];
  await pg.resetStatements();
  const consumer = new Child(
    "latency consumer",
    o.latencyWorker ?? latencyWorker,
    ["--role", "consumer", ...remote],
    o.flags?.consumer,
  );
  let emitter: Child | undefined;
  try {
    await consumer.expect("ready", 60_000);
    emitter = new Child(
      "latency emitter",
      o.latencyWorker ?? latencyWorker,
      ["--role", "emitter", ...remote],
      o.flags?.emitter,
    );
    await emitter.expect("ready", 60_000);
    const pids = () => ({
      emitter: cpuMicros(emitter?.pid),
      consumer: cpuMicros(consumer.pid),
      "nats-server": cpuMicros(nats.handle.pid),
      postgres: treeCpuMicros(pg.handle.pid),
    });
    emitter.send({ go: true });
    await emitter.expect("measuring", timeout);
    const before = pids();
    const { emitted } = (await emitter.expect("emitted", timeout)) as { emitted: Emitted };
    consumer.send({ await: emitted.count });
    const { handled } = (await consumer.expect("handled", 120_000)) as { handled: Handled };
    const after = pids();
    const measured = emitted.count - emitted.warm;
    const cpu = Object.fromEntries(
      Object.keys(before).map((k) => [
        k,
        ((after[k as keyof typeof after] ?? 0) - (before[k as keyof typeof before] ?? 0)) / measured,
      ]),
    );
    const r = summarize(kind, rate, emitted, handled, cpu);
    const counted = await pg.statements(emitted.count / 20);
    if (counted !== undefined) {
      const tag = `l${seq}`;
      r.statements = {
        source: (counted[`src_${tag}`] ?? 0) / emitted.count,
        sink: (counted[`sink_${tag}`] ?? 0) / emitted.count,
      };
    }
    return r;
  } finally {
    await emitter?.stop();
    await consumer.stop();
  }
}

function summarize(
  kind: LatencyCase,
  rate: number,
  e: Emitted,
  h: Handled,
  cpuUs: Record<string, number>,
): LatencyResult {
  const commit: number[] = [];
  const scheduled: number[] = [];
  const write: number[] = [];
  let missing = 0;
  let lastCommit = 0;
  for (let i = e.warm; i < e.count; i++) {
    const due = e.startNs + i * e.intervalNs;
    const c = e.commitNs[i];
    const t = h.handledNs[i];
    if (c !== null && c !== undefined) {
      write.push(c - due);
      if (c > lastCommit) lastCommit = c;
    }
    if (t === null || t === undefined) {
      missing++;
      continue;
    }
    scheduled.push(t - due);
    if (c !== null && c !== undefined) commit.push(t - c);
  }
  const firstDue = e.startNs + e.warm * e.intervalNs;
  return {
    kind,
    rate,
    achievedPerSec: (write.length / (lastCommit - firstDue)) * 1e9,
    measured: e.count - e.warm,
    handled: h.handled,
    missing,
    duplicates: h.duplicates,
    errors: e.errors,
    ...(e.firstError === undefined ? {} : { firstError: e.firstError }),
    outboxLeft: e.outboxLeft,
    commit: percentiles(commit),
    scheduled: percentiles(scheduled),
    write: percentiles(write),
    lateP99Ns: e.lateP99Ns,
    lateMaxNs: e.lateMaxNs,
    cpuUs,
  };
}

function percentiles(values: number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return {
    p50Ns: percentile(sorted, 0.5),
    p99Ns: percentile(sorted, 0.99),
    p999Ns: percentile(sorted, 0.999),
    maxNs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}

// Reports.

export function renderOutbox(r: OutboxResults): string {
  const out: string[] = [];
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
  out.push(
    `Load average (1/5/15 min) at the start ${load(r.machine.loadStart)}, at the end ${load(r.machine.loadEnd)}.`,
  );
  if (r.machine.postgres) out.push(`${r.machine.postgres}.`);
  if (r.machine.nats) out.push(`${r.machine.nats}.`);
  out.push("");
  for (const db of [...new Set(r.write.map((w) => w.db))]) {
    const rows = r.write.filter((w) => w.db === db);
    const base = (impl: WriteImpl) => rows.find((w) => w.impl === baselineOf(impl));
    out.push(
      `### Write cost — ${db === "sqlite" ? "SQLite (a file in a temp dir, WAL)" : "PostgreSQL (database per service)"}, sequential calls\n`,
    );
    const header = [
      "case",
      "ops/s",
      "mean",
      "p50",
      "p99",
      "time vs base",
      "p50 vs base",
      "CPU/op process",
      "CPU vs base",
    ];
    if (db === "postgres") header.push("postgres", "statements/op");
    out.push(
      table(
        header,
        rows.map((w) => {
          const cells = [
            WRITE_LABELS[w.impl],
            ops(w.opsPerSec),
            ns(1e9 / w.opsPerSec),
            ns(w.p50Ns),
            ns(w.p99Ns),
            ratio(base(w.impl)?.opsPerSec ?? Number.NaN, w.opsPerSec),
            ratio(w.p50Ns, base(w.impl)?.p50Ns),
            us(w.cpuUs.worker),
            ratio(
              w.cpuUs.worker + (w.cpuUs.postgres ?? 0),
              (base(w.impl)?.cpuUs.worker ?? Number.NaN) + (base(w.impl)?.cpuUs.postgres ?? 0),
            ),
          ];
          if (db === "postgres") {
            cells.push(us(w.cpuUs.postgres ?? Number.NaN), w.statements === undefined ? "–" : w.statements.toFixed(2));
          }
          return cells;
        }),
      ),
    );
    out.push("");
    out.push(
      `Work done (rows written = calls made, warm-up included; rows left in the outbox): ${rows
        .map(
          (w) =>
            `${w.impl} ${w.rows}/${w.totalOps}${w.rows === w.totalOps ? "" : " MISMATCH"}${w.outboxRows === null ? "" : `, outbox ${w.outboxRows}`}`,
        )
        .join("; ")}`,
    );
    out.push("");
  }
  if (r.latency.length > 0) {
    out.push(`### Commit → handler latency at a steady rate\n`);
    const label = (l: LatencyResult) =>
      l.kind === "embedded"
        ? "embedded: memory transport + SQLite journal, SQLite dbs"
        : "NATS + PostgreSQL, emitter and consumer processes";
    out.push(
      table(
        [
          "case",
          "rate",
          "achieved",
          "commit→handler p50",
          "p99",
          "p99.9",
          "max",
          "due→handler p50",
          "p99",
          "max",
          "due→commit p99",
          "late start p99",
        ],
        r.latency.map((l) => [
          label(l),
          `${ops(l.rate)}/s`,
          `${ops(l.achievedPerSec)}/s`,
          ns(l.commit.p50Ns),
          ns(l.commit.p99Ns),
          ns(l.commit.p999Ns),
          ns(l.commit.maxNs),
          ns(l.scheduled.p50Ns),
          ns(l.scheduled.p99Ns),
          ns(l.scheduled.maxNs),
          ns(l.write.p99Ns),
          ns(l.lateP99Ns),
        ]),
      ),
    );
    out.push("");
    for (const l of r.latency) {
      const cpu = Object.entries(l.cpuUs)
        .map(([k, v]) => `${k} ${us(v)}`)
        .join(", ");
      const statements =
        l.statements === undefined
          ? ""
          : `; PostgreSQL statements per event: ${l.statements.source.toFixed(2)} in the source's database, ${l.statements.sink.toFixed(2)} in the sink's`;
      out.push(`- CPU per measured event, ${l.kind} at ${l.rate}/s: ${cpu}${statements}.`);
    }
    out.push("");
    out.push(
      `Work done (measured events / handled once, warm-up included / missing / handled again / call errors / left in the outbox): ${r.latency
        .map(
          (l) =>
            `${l.kind} ${l.measured}/${l.handled}/${l.missing}/${l.duplicates}/${l.errors}/${l.outboxLeft}${l.firstError ? ` (${l.firstError})` : ""}`,
        )
        .join("; ")}`,
    );
    out.push("");
  }
  return out.join("\n");
}

/** Goals: outbox write ≤ 1.3× the plain write's time; p99 commit→handler ≤ 10 ms embedded, ≤ 25 ms over NATS. */
export function outboxGoals(r: OutboxResults): string[] {
  const lines: string[] = [];
  for (const db of [...new Set(r.write.map((w) => w.db))]) {
    for (const impl of ["outbox", "outbox-norelay", "order-outbox", "order-outbox-norelay"] as const) {
      const plain = r.write.find((x) => x.db === db && x.impl === baselineOf(impl));
      const w = r.write.find((x) => x.db === db && x.impl === impl);
      if (w === undefined || plain === undefined) continue;
      const x = plain.opsPerSec / w.opsPerSec;
      const cpu = (c: WriteResult) => c.cpuUs.worker + (c.cpuUs.postgres ?? 0);
      const which = impl.endsWith("norelay") ? "relay off (the write alone)" : "relay on (as in production)";
      const what = impl.startsWith("order") ? "shop order" : "one-row";
      lines.push(
        `Outbox ${what} write on ${db}, ${which}: ${x.toFixed(2)}× the ${baselineOf(impl)} write's time, ${(cpu(w) / cpu(plain)).toFixed(2)}× its CPU (goal ≤ 1.3×) ${x <= 1.3 ? "met" : "MISSED"}`,
      );
    }
  }
  for (const l of r.latency) {
    const goalMs = l.kind === "embedded" ? 10 : 25;
    const p99 = l.commit.p99Ns / 1e6;
    const met = p99 <= goalMs && l.missing === 0 && l.errors === 0;
    // The goals are stated at 1,000 events/s; other rates are for comparison.
    const verdict =
      l.rate === GOAL_RATE
        ? met
          ? "met"
          : "MISSED"
        : `(${met ? "within" : "over"} it; the goal is at ${GOAL_RATE}/s)`;
    lines.push(
      `Commit → handler p99, ${l.kind === "embedded" ? "embedded" : "NATS + PostgreSQL"} at ${l.rate}/s: ${p99.toFixed(2)} ms (goal ≤ ${goalMs} ms) ${verdict}`,
    );
  }
  return lines;
}
