import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bundleWorker, percent } from "../lib/bundle.js";
import { summarize } from "../lib/cpu-profile.js";
import { LATENCY_CASES, type LatencyCase, outboxGoals, renderOutbox, runOutboxSuite } from "./suite.js";
import { DBS, type Db, WRITE_IMPLS, type WriteImpl } from "./write-cases.js";

const { values } = parseArgs({
  options: {
    write: { type: "string", default: "" },
    latency: { type: "string", default: "" },
    time: { type: "string", default: "5000" },
    warmup: { type: "string", default: "1000" },
    rate: { type: "string", default: "1000" },
    top: { type: "string", default: "40" },
    /** Start-up and warm-up to leave out of the summary. */
    skip: { type: "string", default: "3000" },
    bundle: { type: "boolean", default: false },
  },
});

const dir = mkdtempSync(join(tmpdir(), "flotilla-outbox-prof-"));
const flags = (side: string) => {
  mkdirSync(join(dir, side));
  return ["--cpu-prof", `--cpu-prof-dir=${join(dir, side)}`, "--cpu-prof-interval=100"];
};
const time = Number(values.time);
const warmup = Number(values.warmup);
let sides: string[];
let options: Parameters<typeof runOutboxSuite>[0];
const base = { timeMs: time, warmupMs: warmup, repeat: 1, rates: [Number(values.rate)] };
if (values.write !== "") {
  const [db, impl] = values.write.split("/") as [Db, WriteImpl];
  if (!DBS.includes(db) || !WRITE_IMPLS.includes(impl))
    throw new Error(`--write ${DBS.join("|")}/${WRITE_IMPLS.join("|")}`);
  sides = ["write"];
  options = {
    ...base,
    dbs: [db],
    writeImpls: [impl],
    latency: [],
    latencyTimeMs: 0,
    latencyWarmupMs: 0,
    flags: { write: flags("write") },
    ...(values.bundle ? { writeWorker: bundleWorker("outbox/write-worker", dir) } : {}),
  };
} else {
  const kind = values.latency as LatencyCase;
  if (!LATENCY_CASES.includes(kind)) throw new Error(`--write DB/IMPL or --latency ${LATENCY_CASES.join("|")}`);
  sides = kind === "embedded" ? ["embedded"] : ["emitter", "consumer"];
  options = {
    ...base,
    dbs: [],
    writeImpls: [],
    latency: [kind],
    latencyTimeMs: time,
    latencyWarmupMs: warmup,
    flags: Object.fromEntries(sides.map((s) => [s, flags(s)])),
    ...(values.bundle ? { latencyWorker: bundleWorker("outbox/latency-worker", dir) } : {}),
  };
}

const results = await runOutboxSuite(options, (line) => console.error(line));
console.log(renderOutbox(results));
for (const line of outboxGoals(results)) console.log(line);

const top = Number(values.top);
const name = sourceNames();
for (const side of sides) {
  // The main thread's profile is the largest (tsx's loader thread writes a small one too).
  const files = readdirSync(join(dir, side)).map((f) => join(dir, side, f));
  const largest = files.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0] as string;
  const summary = summarize(JSON.parse(readFileSync(largest, "utf8")), Number(values.skip));
  console.log(`\n## ${side}: ${summary.samples} busy samples (${largest})\n\nby function (self% / total%):`);
  for (const r of summary.functions.slice(0, top)) console.log(percent(r.selfPct), percent(r.totalPct), name(r.name));
  console.log("\nby file (self% / total%):");
  for (const r of summary.files.slice(0, 30)) console.log(percent(r.selfPct), percent(r.totalPct), name(r.name));
}

/**
 * In a bundle, names `bundle.mjs:LINE` after the source file the line came from: esbuild starts each
 * file's part with a `// path/to/file.ts` comment.
 */
function sourceNames(): (text: string) => string {
  const starts = new Map<string, { line: number; file: string }[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".mjs"))) {
    const path = join(dir, file);
    const marks: { line: number; file: string }[] = [];
    readFileSync(path, "utf8")
      .split("\n")
      .forEach((text, i) => {
        const m = /^\/\/ (\S+\.ts)$/.exec(text);
        if (m) marks.push({ line: i + 1, file: m[1] as string });
      });
    starts.set(path, marks);
  }
  return (text) =>
    text.replace(/(\S+\.mjs):(\d+)/, (all, path: string, line: string) => {
      const marks = starts.get(path);
      if (marks === undefined) return all;
      let file = "?";
      for (const m of marks) if (m.line <= Number(line)) file = m.file;
      return `${file} (bundle line ${line})`;
    });
}
