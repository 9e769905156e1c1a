/** @module The command line that starts one instance of a deployment unit: `flotilla start` for its services. */
import { join } from "node:path";
import type { ResolvedUnit } from "@flotilla/app";

/** Where an instance finds the app and the system it joins. */
export interface InstanceContext {
  /** The `flotilla` CLI script (packages/cli/bin/flotilla.js). */
  readonly cliBin: string;
  readonly appPath: string;
  readonly natsUrl: string;
  /** The supervisor's data dir; each unit keeps its files under `units/<unit>`. */
  readonly dataDir: string;
}

/**
 * `node <cli> start …` arguments for one instance of `unit`: its services (and the gateway on a free
 * port), NATS as transport and registry, /readyz on a free ops port, its own data dir.
 */
export function instanceArgs(unit: ResolvedUnit, ctx: InstanceContext): string[] {
  return [
    ctx.cliBin,
    "start",
    "--app",
    ctx.appPath,
    ...unitSelection(unit),
    "--transport",
    ctx.natsUrl,
    "--registry",
    ctx.natsUrl,
    "--ops-port",
    "0",
    "--host",
    "127.0.0.1",
    "--data-dir",
    join(ctx.dataDir, "units", unit.name),
  ];
}

/** What the instance runs; becomes `--unit NAME` once `flotilla start` takes it. */
function unitSelection(unit: ResolvedUnit): string[] {
  const services = ["--services", unit.services.length > 0 ? unit.services.join(",") : "none"];
  return unit.gateway ? [...services, "--gateway", "--port", "0"] : services;
}
