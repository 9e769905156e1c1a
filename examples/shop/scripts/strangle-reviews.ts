/**
 * @module `npm run strangle -w @flotilla/example-shop`: moves the shop's reviews from the legacy monolith
 * to the reviews service step by step under real traffic, printing a comparison report per step, and
 * exits non-zero at the first step with differences or lost requests (docs/strangler.md).
 *
 * Without `--url`, it starts the shop in this process with a legacy monolith of its own (in a fresh
 * data directory) and stops that monolith in the last step; with `--url`, it drives a running shop.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startLegacyMonolith } from "@flotilla/example-legacy-monolith";
import { type StepReport, strangleReviews } from "./strangler/migration-steps.js";
import { ShopAdmin } from "./strangler/shop-admin.js";
import { TrafficDriver } from "./strangler/traffic-driver.js";

const USAGE = `usage: strangle-reviews [--url URL] [--token T] [--reads N] [--writes N] [--json]
  --url URL        a running shop's gateway (default: start one here, with its own legacy monolith)
  --token T        an admin's bearer token (default FLOTILLA_TOKEN, else sign in as the demo admin)
  --reads N        reads per step (100)      --writes N   writes per step (10)
  --json           one JSON report per line instead of text`;

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string" },
    reads: { type: "string", default: "100" },
    writes: { type: "string", default: "10" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const reads = Number(values.reads);
const writes = Number(values.writes);
if (!Number.isInteger(reads) || reads < 1 || !Number.isInteger(writes) || writes < 1) {
  console.error(`--reads and --writes must be whole numbers from 1\n${USAGE}`);
  process.exit(2);
}

const shop = values.url === undefined ? await embeddedShop() : { url: values.url, stop: async () => undefined };
let ok = false;
try {
  const token = values.token ?? process.env.FLOTILLA_TOKEN;
  const adminAuth = token
    ? { authorization: `Bearer ${token}` }
    : await ShopAdmin.signIn(shop.url, "admin@flotilla.dev", "admin-password");
  const user = await ShopAdmin.signIn(shop.url, "demo@flotilla.dev", "demo-password");
  const reports = await strangleReviews({
    admin: new ShopAdmin(shop.url, adminAuth),
    driver: new TrafficDriver(shop.url, user),
    reads,
    writes,
    ...(shop.stopLegacy ? { stopLegacy: shop.stopLegacy } : {}),
    onStep: (report) => console.log(values.json ? JSON.stringify(report) : describe(report)),
  });
  ok = reports.length === 7 && reports.every((r) => r.problems.length === 0);
  console.log(
    values.json ? JSON.stringify({ done: ok }) : ok ? "reviews moved: the service serves them alone" : "stopped",
  );
} catch (err) {
  console.error(`strangle-reviews: ${(err as Error).message}`);
} finally {
  await shop.stop();
}
process.exit(ok ? 0 : 1);

/** The shop in this process, its legacy monolith beside it, in a data directory removed at the end. */
async function embeddedShop(): Promise<{ url: string; stop(): Promise<void>; stopLegacy?: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-strangle-"));
  // A drill sends a few hundred requests a minute from one address: above the shop's default limits.
  process.env.FLOTILLA_RATE_LIMIT ??= "100000/60";
  process.env.FLOTILLA_LOG_LEVEL ??= "warn";
  const { startShop } = await import("../src/app.js");
  const legacy = await startLegacyMonolith({ dbFile: join(dataDir, "legacy-reviews.db") });
  let legacyUp = true;
  const stopLegacy = async () => {
    legacyUp = false;
    await legacy.close();
  };
  const running = await startShop({ port: 0, listenHost: "127.0.0.1", dataDir, legacyUrl: legacy.url });
  return {
    url: running.url as string,
    stopLegacy,
    stop: async () => {
      await running.stop();
      if (legacyUp) await legacy.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function describe(r: StepReport): string {
  const served = (t: StepReport["reads"]) =>
    [`${t.sent} sent`, ...Object.entries(t.servedBy).map(([v, n]) => `${n} by ${v}`), `${t.lost} lost`].join(", ");
  const lines = [
    `== ${r.step}: ${r.title}`,
    `   reads  ${JSON.stringify(r.rules.reads)}: ${served(r.reads)}`,
    `   writes to ${r.rules.writesTo}: ${served(r.writes)}`,
    `   sync   ${r.sync.enabled ? "on" : "off"}, last id ${r.sync.lastId}, ${r.sync.behind} behind, ${r.sync.imported} copied, ${r.sync.conflicts} conflicts`,
  ];
  const c = r.comparison;
  if (c) {
    lines.push(
      `   compared ${c.compared}: ${c.equal} equal, ${c.different} different, ${c.shadowFailed} shadow failed, ${c.dropped} dropped`,
    );
    for (const d of c.differences.slice(0, 3)) lines.push(`     ${JSON.stringify(d).slice(0, 300)}`);
  }
  lines.push(r.problems.length === 0 ? "   ok" : `   FAILED: ${r.problems.join("; ")}`);
  return lines.join("\n");
}
