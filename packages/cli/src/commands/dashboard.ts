/** @module `flotilla dashboard`: the dashboard of a split system, served on its own (docs/dashboard.md). */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { DASHBOARD_PORT, serveDashboard, stopOnSignals } from "@flotilla/app";
import { readControlFile } from "@flotilla/supervisor";
import { loadApp } from "../load-app.js";
import { parseOptions, portOption, UsageError } from "../options.js";
import { DASHBOARD_USAGE } from "../usage.js";

/** The default data dir of `flotilla dashboard`: its trace store and dashboard.json. */
export const DASHBOARD_DATA_DIR = ".flotilla/dashboard";

export async function dashboard(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    app: { type: "string" },
    nats: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "data-dir": { type: "string" },
    supervisor: { type: "string" },
    open: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(DASHBOARD_USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const natsUrl = values.nats ?? process.env.FLOTILLA_TRANSPORT;
  if (natsUrl === undefined || !natsUrl.startsWith("nats://")) {
    throw new UsageError(
      `--nats must name the system's NATS server (nats://host:4222)${natsUrl === undefined ? "" : `, got "${natsUrl}"`}`,
    );
  }
  const port = portOption(values.port ?? String(DASHBOARD_PORT), "--port");
  const dataDir = resolve(values["data-dir"] ?? DASHBOARD_DATA_DIR);
  const supervisor = values.supervisor === undefined ? undefined : readControlFile(resolve(values.supervisor));
  const app = await loadApp(values.app);
  mkdirSync(dataDir, { recursive: true });
  const served = await serveDashboard({
    app,
    natsUrl,
    dataDir,
    port,
    host: values.host ?? "127.0.0.1",
    open: values.open === true,
    ...(supervisor === undefined ? {} : { supervisor: { url: supervisor.url, token: supervisor.token } }),
  });
  console.log(`Flotilla ${app.name} dashboard on ${served.url}`);
  if (served.token === undefined) console.log("open: no token asked (development only)");
  else console.log(`admin token: ${served.token} (also in ${resolve(dataDir, "dashboard.json")})`);
  console.log(`spans: FLOTILLA_TRACE_COLLECTOR=${served.collectorUrl}`);
  stopOnSignals({ stop: () => served.close() }, `${app.name} dashboard`);
}
