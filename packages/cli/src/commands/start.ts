/** @module `flotilla start`: runs services of an app (and optionally its gateway) in this process. */

import { runApp, stopOnSignals } from "@flotilla/app";
import { dataDirFrom } from "@flotilla/data/internal";
import { loadApp } from "../load-app.js";
import { listOption, parseOptions, portOption, transportOption, UsageError } from "../options.js";
import { START_USAGE } from "../usage.js";

export async function start(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    app: { type: "string" },
    services: { type: "string" },
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
  const services = values.services === undefined ? undefined : listOption(values.services);
  const gatewayPort = values.gateway ? portOption(values.port ?? process.env.PORT ?? "8080", "--port") : undefined;
  const grpcPort = values["grpc-port"] ? portOption(values["grpc-port"], "--grpc-port") : undefined;
  if (grpcPort !== undefined && gatewayPort === undefined) throw new UsageError("--grpc-port needs --gateway");
  const opsPort = values["ops-port"] ? portOption(values["ops-port"], "--ops-port") : undefined;
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  const app = await loadApp(values.app);
  const running = await runApp(app, {
    ...(services ? { services } : {}),
    transport: transportOption(values.transport, "memory://?faithful=1"),
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
  console.log(`Flotilla ${app.name}: running ${what} over ${running.host.transport.name}`);
  if (running.url) console.log(`Flotilla ${app.name} listening on ${running.url}`);
  const grpc = running.gateway?.grpc?.address;
  if (grpc !== undefined) console.log(`gRPC on ${grpc} (docs/grpc.md)`);
  if (running.ops) console.log(`operations on ${running.ops.url} (/livez /readyz /metrics)`);
  stopOnSignals(running, app.name);
}
