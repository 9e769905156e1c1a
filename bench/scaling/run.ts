/**
 * @module The scaling load test (`npx tsx bench/scaling/run.ts [--short]`): runs the shop split under
 * the supervisor with the autoscaler on, drives rising then falling load at the browse routes and
 * checkout, and prints instances over time per unit, figures per phase, every scale decision, and three
 * checks (the watched unit goes 1 → N → 1; p99 while scaling under a bound; no failed request while
 * instances are removed). Exits 1 when a check fails. Options: bench/scaling/phases.ts, bench/README.md.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLogger } from "@flotilla/core";
import shopApp from "../../examples/shop/src/app.js";
import { Autoscaler, type ScaleDecision, type UnitSignals } from "../../packages/supervisor/src/autoscale/index.js";
import * as supervisorModule from "../../packages/supervisor/src/index.js";
import { runLoad, signIn } from "./load.js";
import { scalingOptions } from "./phases.js";
import { checks, type Decision, renderDecisions, renderPhases, renderTimeline, type Snapshot } from "./report.js";

/** The part of the supervisor (`createSupervisor`, docs/supervisor.md) this test drives. */
interface Supervised {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): {
    readonly gatewayUrl?: string;
    readonly units: readonly {
      readonly name: string;
      readonly desired: number;
      readonly instances: readonly { readonly state: string }[];
      readonly signals?: UnitSignals;
    }[];
  };
  on(event: "decision", listener: (decision: ScaleDecision) => void): () => void;
}
type CreateSupervisor = (options: Record<string, unknown>) => Supervised;

const options = scalingOptions(process.argv.slice(2));
const root = resolve(import.meta.dirname, "../..");
const createSupervisor = (supervisorModule as unknown as { createSupervisor?: CreateSupervisor }).createSupervisor;
if (createSupervisor === undefined) {
  console.error("@flotilla/supervisor has no createSupervisor yet: this test needs the supervisor (flotilla up)");
  process.exit(2);
}

const dataDir = mkdtempSync(join(tmpdir(), "flotilla-scaling-"));
// When run as root, PostgreSQL runs as an unprivileged user, who must be able to reach its directory.
chmodSync(dataDir, 0o755);
const watched = shopApp.units?.[options.unit];
if (watched === undefined) throw new Error(`the shop has no unit "${options.unit}"`);
// The supervisor alone reads units' scaling (instances are started with their services named): overriding it here is enough.
const app = {
  ...shopApp,
  units: { ...shopApp.units, [options.unit]: { ...watched, scaling: { ...watched.scaling, ...options.scaling } } },
};
const supervisor = createSupervisor({
  app,
  appPath: join(root, "examples/shop/src/app.ts"),
  cliBin: join(root, "packages/cli/bin/flotilla.js"),
  dataDir,
  gatewayPort: 0,
  autoscale: true,
  syncPeriodMs: options.syncMs,
  autoscaler: (unit: ConstructorParameters<typeof Autoscaler>[0]) =>
    new Autoscaler(unit, { stabilizationWindowMs: options.windowMs }),
  // The load comes from one address: lift the gateway's per-client limit, as the shop's README says for load runs.
  env: {
    FLOTILLA_RATE_LIMIT: "1000000/1",
    FLOTILLA_LOG_LEVEL: "warn",
    SHOP_PAYMENT_LATENCY_MS: String(options.paymentLatencyMs),
  },
  log: createLogger({ name: "supervisor", level: "warn" }),
});

const decisions: Decision[] = [];
const snapshots: Snapshot[] = [];
let phase = "start";
supervisor.on("decision", (d) => decisions.push(d));
const snapshot = () => {
  const units: Record<string, { ready: number; desired: number }> = {};
  let signals: string | undefined;
  for (const u of supervisor.status().units) {
    units[u.name] = { ready: u.instances.filter((i) => i.state === "ready").length, desired: u.desired };
    if (u.name === options.unit && u.signals !== undefined) signals = describe(u.signals);
  }
  snapshots.push({ at: Date.now(), phase, units, ...(signals === undefined ? {} : { signals }) });
};

const total = options.phases.reduce((ms, p) => ms + p.ms, 0);
console.log(
  `node ${process.version}; phases ${options.phases.map((p) => `${p.name} ${p.ms / 1000} s @ ${p.rps} req/s`).join(", ")}` +
    ` (${Math.round(total / 1000)} s); sync ${options.syncMs} ms, scale-down window ${options.windowMs} ms\n`,
);
let exitCode = 0;
try {
  await supervisor.start();
  const gatewayUrl = supervisor.status().gatewayUrl;
  if (gatewayUrl === undefined) throw new Error("the supervisor reports no gateway URL");
  const authorization = await signIn(gatewayUrl);
  const t0 = Date.now();
  snapshot();
  const sampler = setInterval(snapshot, 1_000);
  const run = await runLoad(
    {
      gatewayUrl,
      phases: options.phases,
      checkoutEvery: options.checkoutEvery,
      maxOpen: options.maxOpen,
      onPhase: (p) => {
        phase = p.name;
        console.log(`${Math.round((Date.now() - t0) / 1000)} s: phase ${p.name}, ${p.rps} req/s`);
      },
    },
    authorization,
  );
  clearInterval(sampler);
  snapshot();

  console.log("\n## Instances over time (ready/wanted per unit, every 10 s)\n");
  console.log(renderTimeline(snapshots, run.samples, t0, options.unit));
  console.log("\n## Requests per phase\n");
  console.log(renderPhases(options.phases, run));
  console.log("\n## Scale decisions\n");
  console.log(renderDecisions(decisions, t0));
  console.log("\n## Checks\n");
  for (const c of checks(options, snapshots, decisions, run)) {
    console.log(`- ${c.pass ? "PASS" : "FAIL"} ${c.name}: ${c.detail}`);
    if (!c.pass) exitCode = 1;
  }
} catch (err) {
  console.error(err);
  exitCode = 2;
} finally {
  await supervisor.stop().catch((err: unknown) => console.error("stopping the supervisor:", err));
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);

function describe(s: UnitSignals): string {
  const parts = [
    s.inFlight === undefined ? undefined : `in-flight ${s.inFlight}`,
    s.cpuPercent === undefined ? undefined : `CPU ${Math.round(s.cpuPercent)}%`,
    s.lag === undefined ? undefined : `lag ${s.lag}`,
  ];
  return parts.filter((p) => p !== undefined).join(", ");
}
