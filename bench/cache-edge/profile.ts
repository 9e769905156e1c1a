/**
 * @module Where a cache hit's time goes: the cache-edge suite's Flotilla case (the shop embedded, its
 * product route cached and warm) under V8's sampling profiler, the load from this process.
 *
 * `npx tsx bench/cache-edge/profile.ts [-d 10] [--warmup 3] [--connections 50] [--top 30]`
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { profileArgs, profileUnderLoad } from "../proxy/profiled-load.js";
import { CACHED_PATH } from "./suite.js";

const { load } = profileArgs();

const dir = mkdtempSync(join(tmpdir(), "flotilla-cache-prof-"));
try {
  mkdirSync(join(dir, "data"));
  await profileUnderLoad({
    script: "edge/shop-worker.ts",
    args: ["--role", "embedded", "--data-dir", join(dir, "data")],
    env: { FLOTILLA_LOG_LEVEL: "warn", FLOTILLA_RATE_LIMIT: "1000000/60" },
    path: CACHED_PATH,
    dir,
    ...load,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
