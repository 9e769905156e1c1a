/**
 * @module One case of the write-cost benchmark, in its own process: writes one row per call, each
 * call awaited before the next, for `--warmup` ms and then `--time` ms, and prints `{result}`.
 *
 * `npx tsx bench/outbox/write-worker.ts --db sqlite --impl outbox --time 3000` (PostgreSQL: also
 * `--pg-base postgres://postgres@127.0.0.1:PORT`, and `--pg-pid` to count the server's CPU).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { reply } from "../nats/io.js";
import { measureWindow } from "../nats/measure.js";
import { treeCpuMicros } from "./cpu-tree.js";
import { flushStdout } from "./flush.js";
import { DBS, type Db, startWriteCase, WRITE_IMPLS, type WriteImpl } from "./write-cases.js";

const { values } = parseArgs({
  options: {
    db: { type: "string", default: "sqlite" },
    impl: { type: "string", default: "outbox" },
    "pg-base": { type: "string", default: "" },
    "pg-pid": { type: "string", default: "" },
    service: { type: "string", default: "" },
    time: { type: "string", default: "3000" },
    warmup: { type: "string", default: "1000" },
  },
});
const db = values.db as Db;
const impl = values.impl as WriteImpl;
if (!DBS.includes(db) || !WRITE_IMPLS.includes(impl) || (db === "postgres" && values["pg-base"] === "")) {
  console.error(
    `usage: write-worker.ts --db ${DBS.join("|")} --impl ${WRITE_IMPLS.join("|")} [--pg-base postgres://user@host:port]`,
  );
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-outbox-"));
const service = values.service || `w-${impl.replaceAll("-", "")}-${process.pid}`;
const pgPid = values["pg-pid"] === "" ? undefined : Number(values["pg-pid"]);
try {
  const c = await startWriteCase(impl, { db, dir, pgBase: values["pg-base"] as string, service });
  let id = 0;
  let before = { self: 0, pg: 0 };
  const cpu = () => {
    const u = process.cpuUsage();
    return { self: u.user + u.system, pg: treeCpuMicros(pgPid) };
  };
  const m = await measureWindow(() => c.write(++id), {
    warmupMs: Number(values.warmup),
    timeMs: Number(values.time),
    inFlight: 1,
    onMeasure: () => {
      before = cpu();
    },
  });
  const after = cpu();
  // Let the relay finish its last round before counting what it left in the outbox.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const work = await c.check();
  await c.close();
  reply({
    result: {
      db,
      impl,
      opsPerSec: m.opsPerSec,
      p50Ns: m.p50Ns,
      p99Ns: m.p99Ns,
      ops: m.ops,
      totalOps: m.totalOps,
      rows: work.rows,
      outboxRows: work.outbox,
      cpuUs: { worker: (after.self - before.self) / m.ops, postgres: (after.pg - before.pg) / m.ops },
    },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
await flushStdout();
process.exit(0);
