/** @module Runs one case of the call benchmark in its own process and prints its result as one JSON line. */
import { parseArgs } from "node:util";
import { measure } from "../lib/measure.js";
import { build, CONFIGS, type Config, IMPLS, type Impl } from "./cases.js";

const { values } = parseArgs({
  options: {
    impl: { type: "string" },
    config: { type: "string", default: "bare" },
    concurrency: { type: "string", default: "1" },
    time: { type: "string", default: "3000" },
    warmup: { type: "string", default: "1000" },
  },
});
const impl = values.impl as Impl;
const config = values.config as Config;
if (!IMPLS.includes(impl) || !CONFIGS.includes(config)) {
  console.error(`usage: worker.ts --impl ${IMPLS.join("|")} --config ${CONFIGS.join("|")}`);
  process.exit(2);
}

const subject = await build(impl, config);
const m = await measure(() => subject.call(), {
  concurrency: Number(values.concurrency),
  timeMs: Number(values.time),
  warmupMs: Number(values.warmup),
});
const checks = await subject.check(m.totalOps);
await subject.close();
console.log(JSON.stringify({ impl, config, concurrency: Number(values.concurrency), ...m, checks }));
