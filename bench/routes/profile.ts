/**
 * @module Where a route-count gateway's time goes: the routes suite's worker with `--routes N` under
 * V8's sampling profiler, loaded on the fixed route or on every GET route shuffled.
 *
 * `npx tsx bench/routes/profile.ts --routes 1000 --target random [-d 10] [--warmup 3] [--top 30]`
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { profileArgs, profileUnderLoad } from "../proxy/profiled-load.js";
import { MEASURED, routeTable, shuffledGetPaths } from "./route-table.js";

const { values, load } = profileArgs({ routes: "1000", target: "random" });
if (values.target !== "fixed" && values.target !== "random") throw new Error("--target is fixed or random");

const dir = mkdtempSync(join(tmpdir(), "flotilla-routes-prof-"));
try {
  await profileUnderLoad({
    script: "routes/gateway-worker.ts",
    args: ["--routes", String(values.routes)],
    env: {},
    path: MEASURED.sample,
    ...(values.target === "random" ? { paths: shuffledGetPaths(routeTable(Number(values.routes))) } : {}),
    dir,
    ...load,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
