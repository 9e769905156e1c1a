/** @module `flotilla up`: runs an app split under a supervisor (docs/supervisor.md), with a live status view. */
import { createWriteStream, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { DASHBOARD_FILE, LAYOUTS, type Layout, readDashboardFile, stopOnSignals } from "@flotilla/app";
import { createLogger } from "@flotilla/core";
import { createSupervisor, renderStatus } from "@flotilla/supervisor";
import { appModulePath, loadApp } from "../load-app.js";
import { parseOptions, portOption, positiveIntOption, UsageError } from "../options.js";
import { UP_USAGE } from "../usage.js";

/** The default data dir of `flotilla up`, `ps`, `scale` and `restart`. */
export const UP_DATA_DIR = ".flotilla/up";

const STOP_TIMEOUT_MS = 90_000;

export async function up(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    app: { type: "string" },
    layout: { type: "string" },
    nats: { type: "string" },
    database: { type: "string" },
    port: { type: "string" },
    "data-dir": { type: "string" },
    instances: { type: "string" },
    "no-autoscale": { type: "boolean" },
    "sync-period": { type: "string" },
    companion: { type: "string", multiple: true },
    env: { type: "string", multiple: true },
    plain: { type: "boolean" },
    "dashboard-port": { type: "string" },
    "no-dashboard": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(UP_USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values["no-dashboard"] && values["dashboard-port"] !== undefined) {
    throw new UsageError("--dashboard-port and --no-dashboard exclude each other");
  }
  const dashboardPort = portOption(values["dashboard-port"] ?? "0", "--dashboard-port");
  const layout = values.layout ?? "app";
  if (!LAYOUTS.includes(layout as Layout)) throw new UsageError(`--layout must be one of ${LAYOUTS.join(", ")}`);
  const instances = Object.fromEntries(
    pairs(values.instances ? values.instances.split(",") : [], "--instances", "UNIT=N").map(([unit, n]) => [
      unit,
      instanceCount(n, `--instances ${unit}`),
    ]),
  );
  const dataDir = resolve(values["data-dir"] ?? UP_DATA_DIR);
  const live = process.stdout.isTTY === true && values.plain !== true;
  mkdirSync(dataDir, { recursive: true });
  // The live view owns the terminal: log lines go to a file beside the supervisor's other files.
  const log = live
    ? createLogger({
        name: "supervisor",
        stream: createWriteStream(join(dataDir, "supervisor.log"), { flags: "a" }),
        format: "json",
      })
    : createLogger({ name: "supervisor" });
  const appPath = appModulePath(values.app);
  const supervisor = createSupervisor({
    app: await loadApp(appPath),
    appPath,
    cliBin: resolve(import.meta.dirname, "../../bin/flotilla.js"),
    layout: layout as Layout,
    dataDir,
    gatewayPort: portOption(values.port ?? "8080", "--port"),
    instances,
    env: Object.fromEntries(pairs(values.env ?? [], "--env", "K=V")),
    companions: Object.fromEntries(pairs(values.companion ?? [], "--companion", "NAME=COMMAND")),
    autoscale: values["no-autoscale"] !== true,
    ...(values["no-dashboard"] ? {} : { dashboard: { port: dashboardPort } }),
    log,
    ...(values.nats ? { natsUrl: values.nats } : {}),
    ...(values.database ? { databaseUrl: values.database } : {}),
    ...(values["sync-period"] ? { syncPeriodMs: positiveIntOption(values["sync-period"], "--sync-period") } : {}),
  });
  stopOnSignals(supervisor, "supervisor", STOP_TIMEOUT_MS);
  await supervisor.start();
  const status = supervisor.status();
  console.log(
    `Flotilla ${status.app} up: gateway on ${status.gatewayUrl ?? "(none)"}, control on ${status.controlUrl}`,
  );
  if (status.dashboardUrl !== undefined) {
    const { token } = readDashboardFile(dataDir);
    console.log(`dashboard on ${status.dashboardUrl}, admin token ${token} (also in ${join(dataDir, DASHBOARD_FILE)})`);
  }
  if (live) {
    const draw = () =>
      process.stdout.write(`\x1b[H\x1b[2J${renderStatus(supervisor.status(), process.stdout.columns || 100)}`);
    draw();
    setInterval(draw, 1_000).unref();
  }
}

/** `["a=1", "b=x=y"]` → `[["a", "1"], ["b", "x=y"]]`; anything without `=` is a usage error. */
function pairs(items: readonly string[], flag: string, form: string): [string, string][] {
  return items.map((item) => {
    const at = item.indexOf("=");
    if (at <= 0) throw new UsageError(`${flag} takes ${form}, got "${item}"`);
    return [item.slice(0, at).trim(), item.slice(at + 1)];
  });
}

/** A whole number of instances, 0 included. */
export function instanceCount(value: string, what: string): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${what} must be a whole number of instances, got "${value}"`);
  return Number(value);
}
