/**
 * @module Where a route-count gateway's time goes: the routes suite's worker with `--routes N` under
 * V8's sampling profiler, loaded on the fixed route or on every GET route shuffled.
 *
 * `npx tsx bench/routes/profile.ts --routes 1000 --target random [-d 10] [--warmup 3] [--top 30]`
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { profileUnderLoad } from "../proxy/profiled-load.js";
import { MEASURED, routeTable, shuffledGetPaths } from "./route-table.js";

const { values } = parseArgs({
  options: {
    routes: { type: "string", default: "1000" },
    target: { type: "string", default: "random" },
    duration: { type: "string", short: "d", default: "10" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
    top: { type: "string", default: "30" },
  },
});
if (values.target !== "fixed" && values.target !== "random") throw new Error("--target is fixed or random");

const dir = mkdtempSync(join(tmpdir(), "flotilla-routes-prof-"));
try {
  await profileUnderLoad({
    script: "routes/gateway-worker.ts",
    args: ["--routes", values.routes],
    env: {},
    path: MEASURED.sample,
    ...(values.target === "random" ? { paths: shuffledGetPaths(routeTable(Number(values.routes))) } : {}),
    dir,
    connections: Number(values.connections),
    warmupSec: Number(values.warmup),
    durationSec: Number(values.duration),
    top: Number(values.top),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
