/**
 * @module `flotilla dev`: runs an app split into its deployment units under the supervisor, one
 * instance each, and restarts only the units whose source changed (docs/hot-reload.md).
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  deploymentUnits,
  type FlotillaApp,
  LAYOUTS,
  type Layout,
  type ResolvedUnit,
  stopOnSignals,
} from "@flotilla/app";
import { FlotillaError } from "@flotilla/core";
import { dataDirFrom } from "@flotilla/data/internal";
import { createSupervisor, type Reload, type Supervisor, startHotReload } from "@flotilla/supervisor";
import { appModulePath, loadApp } from "../load-app.js";
import { parseOptions, portOption, UsageError } from "../options.js";
import { DEV_USAGE } from "../usage.js";

const CLI_BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));

export async function dev(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    app: { type: "string" },
    layout: { type: "string" },
    port: { type: "string" },
    transport: { type: "string" },
    "data-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(DEV_USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const layout = (values.layout ?? "app") as Layout;
  if (!LAYOUTS.includes(layout)) throw new UsageError(`--layout must be one of ${LAYOUTS.join(", ")}, got "${layout}"`);
  const gatewayPort = portOption(values.port ?? process.env.PORT ?? "8080", "--port");
  const natsUrl = values.transport ?? process.env.FLOTILLA_TRANSPORT;
  if (natsUrl !== undefined && !natsUrl.startsWith("nats://")) {
    throw new UsageError(`--transport must be a nats:// URL (units run as separate processes), got "${natsUrl}"`);
  }
  const appPath = appModulePath(values.app);
  const app = await loadApp(appPath);
  const units = deploymentUnits(app, layout);
  const supervisor = createSupervisor({
    app,
    appPath,
    cliBin: CLI_BIN,
    layout,
    ...(natsUrl === undefined ? {} : { natsUrl }),
    dataDir: dataDirFrom(values["data-dir"]),
    gatewayPort,
    // One instance per unit, whatever the app asks for in production: a reload replaces one process.
    instances: Object.fromEntries(units.filter((u) => u.instances !== 1).map((u) => [u.name, 1])),
    autoscale: false,
    // Development: the dashboard asks for no token.
    dashboard: { open: true },
  });
  // Whatever started before a failure (nats-server, instances) is stopped before the error is shown.
  const reload = await startUnits(supervisor, async () => {
    await supervisor.start();
    console.log(`Flotilla ${app.name} dev: ${units.length} units (layout ${layout}), one instance each`);
    console.log(`units: ${pids(supervisor)}`);
    const { gatewayUrl, dashboardUrl } = supervisor.status();
    if (gatewayUrl !== undefined) console.log(`Flotilla ${app.name} listening on ${gatewayUrl}`);
    if (dashboardUrl !== undefined) console.log(`dashboard on ${dashboardUrl} (open: development)`);
    return watch(app, appPath, units, supervisor);
  });
  if (reload.inline.length > 0) {
    console.log(`${reload.inline.join(", ")} defined in the app module: any change restarts their units`);
  }
  console.log(`watching ${reload.directories().length} directories for changes`);
  stopOnSignals(
    {
      async stop() {
        await reload.close();
        await supervisor.stop();
      },
    },
    app.name,
  );
}

async function startUnits<T>(supervisor: Supervisor, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    await supervisor.stop().catch(() => {});
    throw err;
  }
}

/** Hot reload of the supervisor's units, printing each reload and the units' pids after it. */
function watch(app: FlotillaApp, appPath: string, units: readonly ResolvedUnit[], supervisor: Supervisor) {
  let before = pids(supervisor);
  return startHotReload({
    app,
    appPath,
    units,
    target: supervisor,
    onReload: (r) => {
      report(r);
      const after = pids(supervisor);
      if (r.units.length > 0 && after !== before) console.log(`units: ${after}`);
      before = after;
    },
    onWatchError: (dir, err) => console.error(`not watching ${relative(process.cwd(), dir)}: ${err.message}`),
  });
}

/** `edge pid 101, front pid 102`: each unit's instances, as the supervisor reports them. */
function pids(supervisor: Supervisor): string {
  return supervisor
    .status()
    .units.map((u) => `${u.name} pid ${u.instances.map((i) => i.pid).join("+") || "-"}`)
    .join(", ");
}

function report(reload: Reload): void {
  const files = reload.files.map((f) => relative(process.cwd(), f)).join(", ");
  const at = new Date().toTimeString().slice(0, 8);
  if (reload.sourceError !== undefined) {
    const code = reload.sourceError instanceof FlotillaError ? ` [${reload.sourceError.code}]` : "";
    console.error(`[${at}] ${files}: ${reload.sourceError.message}${code}; nothing restarted`);
    return;
  }
  if (reload.units.length === 0) return;
  const done = reload.units.filter((u) => !reload.failed.has(u));
  const took = `${(reload.durationMs / 1000).toFixed(1)} s`;
  if (done.length > 0) console.log(`[${at}] ${files} changed: restarted ${done.join(", ")} in ${took}`);
  for (const [unit, err] of reload.failed) {
    console.error(`[${at}] ${unit} did not restart: ${err.message}; its running instance keeps serving`);
  }
}
