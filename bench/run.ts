/**
 * @module Entry point of `npm run bench`: runs the in-process call benchmark (see bench/README.md for
 * the cases and flags) and prints Markdown tables with ratios against Moleculer and a direct call.
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { CONFIGS, type Config, IMPLS, type Impl } from "./calls/cases.js";
import { goals, render, runSuite } from "./calls/suite.js";

const { values } = parseArgs({
  options: {
    time: { type: "string", default: "3000" },
    warmup: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "1,64" },
    configs: { type: "string", default: CONFIGS.join(",") },
    impls: { type: "string", default: IMPLS.join(",") },
    repeat: { type: "string", default: "1" },
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(`npm run bench -- [flags]
  --time=MS          throughput phase per case (default 3000; the latency phase takes half)
  --warmup=MS        warm-up per case (default 1000)
  --concurrency=LIST 1 = sequential awaited calls, N = batches of N concurrent calls (default 1,64)
  --configs=LIST     ${CONFIGS.join(",")} (default both)
  --impls=LIST       ${IMPLS.join(",")} (default all)
  --repeat=N         runs per case, interleaved; the best is reported (default 1)
  --quick            --time=1000 --warmup=300
  --json             print the raw results as JSON after the tables`);
  process.exit(0);
}

const list = <T extends string>(value: string, allowed: readonly T[], what: string): T[] => {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`unknown ${what} "${item}" (known: ${allowed.join(", ")})`);
  }
  return items as T[];
};

const options = {
  impls: list<Impl>(values.impls, IMPLS, "impl"),
  configs: list<Config>(values.configs, CONFIGS, "config"),
  concurrencies: values.concurrency
    .split(",")
    .map(Number)
    .filter((n) => n >= 1),
  timeMs: values.quick ? 1000 : Number(values.time),
  warmupMs: values.quick ? 300 : Number(values.warmup),
  repeat: Math.max(1, Number(values.repeat)),
};

console.log(
  `In-process action calls — node ${process.version}, ${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}`,
);
console.log(
  `${options.timeMs} ms per case after ${options.warmupMs} ms warm-up, best of ${options.repeat}, one child process per case\n`,
);
const results = await runSuite(options, (line) => console.error(line));
console.log(render(results));
for (const line of goals(results)) console.log(line);
if (values.json) console.log(JSON.stringify(results, null, 2));
