/** @module The command line that starts one instance of a deployment unit: `flotilla start` for its services. */
import { join } from "node:path";
import type { Layout, ResolvedUnit } from "@flotilla/app";

/** Where an instance finds the app and the system it joins. */
export interface InstanceContext {
  /** The `flotilla` CLI script (packages/cli/bin/flotilla.js). */
  readonly cliBin: string;
  readonly appPath: string;
  /** The layout the units come from (`flotilla start --unit` resolves the name in it). */
  readonly layout: Layout;
  readonly natsUrl: string;
  /** The supervisor's data dir; each unit keeps its files under `units/<unit>`. */
  readonly dataDir: string;
}

/**
 * `node <cli> start --unit …` arguments for one instance of `unit`: its services (and the gateway on a
 * free port), NATS as transport and registry, /readyz on a free ops port, its unit's data dir.
 */
export function instanceArgs(unit: ResolvedUnit, ctx: InstanceContext): string[] {
  return [
    ctx.cliBin,
    "start",
    "--app",
    ctx.appPath,
    "--unit",
    unit.name,
    ...(ctx.layout === "app" ? [] : ["--layout", ctx.layout]),
    ...(unit.gateway ? ["--port", "0"] : []),
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
