/**
 * @module Where the gateway's proxy route spends its time: the proxy suite's Flotilla case under V8's
 * sampling profiler, the monolith in a process of its own, the load from this process.
 *
 * `npx tsx bench/proxy/profile.ts [-d 10] [--warmup 3] [--connections 50] [--top 30]`
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker } from "../edge/processes.js";
import { profileArgs, profileUnderLoad } from "./profiled-load.js";
import { PROXY_PATH } from "./suite.js";

const { load } = profileArgs();

const dir = mkdtempSync(join(tmpdir(), "flotilla-proxy-prof-"));
const legacy = startWorker("legacy", "../proxy/legacy-worker.ts", ["--db", join(dir, "reviews.db")], {
  logFile: join(dir, "legacy.log"),
});
try {
  const upstream = String((await legacy.ready).url);
  await profileUnderLoad({
    script: "proxy/gateway-worker.ts",
    args: ["--upstream", upstream, "--data-dir", join(dir, "data")],
    env: { FLOTILLA_LOG_LEVEL: "warn" },
    path: PROXY_PATH,
    dir,
    ...load,
  });
} finally {
  await legacy.stop();
  rmSync(dir, { recursive: true, force: true });
}
