/** @module `flotilla start`: runs services of an app (and optionally its gateway) in this process. */

import {
  deploymentUnit,
  deploymentUnits,
  type FlotillaApp,
  LAYOUTS,
  type Layout,
  runApp,
  stopOnSignals,
} from "@flotilla/app";
import { dataDirFrom } from "@flotilla/data/internal";
import { loadApp } from "../load-app.js";
import { listOption, parseOptions, portOption, transportOption, UsageError } from "../options.js";
import { START_USAGE } from "../usage.js";

export async function start(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    app: { type: "string" },
    services: { type: "string" },
    unit: { type: "string" },
    layout: { type: "string" },
    transport: { type: "string" },
    registry: { type: "string" },
    gateway: { type: "boolean" },
    port: { type: "string" },
    "grpc-port": { type: "string" },
    host: { type: "string" },
    "ops-port": { type: "string" },
    "data-dir": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(START_USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.unit !== undefined && values.services !== undefined) {
    throw new UsageError("--unit and --services exclude each other: a unit names its own services");
  }
  if (values.layout !== undefined && values.unit === undefined) throw new UsageError("--layout needs --unit");
  const layout = layoutOption(values.layout);
  const transport = transportOption(values.transport, "memory://?faithful=1");
  if (values.gateway && values.services === undefined && values.unit === undefined && !isMemory(transport)) {
    throw new UsageError(
      "--gateway over a network transport needs to know which services run beside it: " +
        "--services none (a gateway alone), --services all, or --unit edge (a unit that serves the gateway)",
    );
  }
  const app = await loadApp(values.app);
  const placement = placementOf(app, values.unit, layout, values.services, values.gateway === true);
  const gatewayPort = placement.gateway ? portOption(values.port ?? process.env.PORT ?? "8080", "--port") : undefined;
  const grpcPort = values["grpc-port"] ? portOption(values["grpc-port"], "--grpc-port") : undefined;
  if (grpcPort !== undefined && gatewayPort === undefined) throw new UsageError("--grpc-port needs --gateway");
  const opsPort = values["ops-port"] ? portOption(values["ops-port"], "--ops-port") : undefined;
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  const running = await runApp(app, {
    ...(placement.services ? { services: placement.services } : {}),
    transport,
    ...(gatewayPort === undefined ? {} : { gatewayPort }),
    ...(grpcPort === undefined ? {} : { grpcPort }),
    listenHost: values.host ?? process.env.HOST ?? "localhost",
    ...(values.registry ? { registry: values.registry } : {}),
    ...(opsPort === undefined ? {} : { opsPort }),
    dataDir: dataDirFrom(values["data-dir"]),
    ...(values["tls-cert"] && values["tls-key"]
      ? { tls: { certFile: values["tls-cert"], keyFile: values["tls-key"] } }
      : {}),
  });
  const what = running.host.services.length > 0 ? running.host.services.join(", ") : "no services";
  const unit = values.unit === undefined ? "" : ` (unit ${values.unit})`;
  console.log(`Flotilla ${app.name}: running ${what}${unit} over ${running.host.transport.name}`);
  if (running.url) console.log(`Flotilla ${app.name} listening on ${running.url}`);
  const grpc = running.gateway?.grpc?.address;
  if (grpc !== undefined) console.log(`gRPC on ${grpc} (docs/grpc.md)`);
  if (running.ops) console.log(`operations on ${running.ops.url} (/livez /readyz /metrics)`);
  stopOnSignals(running, app.name);
}

/** What this process runs: a unit's services and gateway, or `--services` (undefined: all) and `--gateway`. */
function placementOf(
  app: FlotillaApp,
  unitName: string | undefined,
  layout: Layout,
  services: string | undefined,
  gateway: boolean,
): { services: readonly string[] | undefined; gateway: boolean } {
  if (unitName === undefined) {
    return { services: services === undefined || services === "all" ? undefined : listOption(services), gateway };
  }
  const unit = deploymentUnit(app, unitName, layout);
  if (gateway && !unit.gateway) {
    throw new UsageError(`unit ${unit.name} does not serve the gateway (${unitsServingGateway(app, layout)})`);
  }
  return { services: unit.services, gateway: unit.gateway };
}

function unitsServingGateway(app: FlotillaApp, layout: Layout): string {
  if (app.gateway === undefined) return `${app.name} has none`;
  const unit = deploymentUnits(app, layout).find((u) => u.gateway);
  return unit === undefined ? "no unit does" : `unit ${unit.name} does`;
}

function layoutOption(value: string | undefined): Layout {
  if (value === undefined) return "app";
  if (!(LAYOUTS as readonly string[]).includes(value)) {
    throw new UsageError(`--layout must be one of ${LAYOUTS.join(", ")}, got "${value}"`);
  }
  return value as Layout;
}

/** The in-process transport: one process is the whole app, so it runs every service unless told otherwise. */
function isMemory(transport: string): boolean {
  return transport.startsWith("memory:");
}
