/** @module The `flotilla` command. */
import { parseArgs } from "node:util";
import { FlotillaError } from "@flotilla/core";
import { loadApp } from "./load-app.js";
import { runApp } from "./run-app.js";
import { stopOnSignals } from "./stop-on-signals.js";

const USAGE = `usage: flotilla start [options]

Runs services of an app in this process.

  --app PATH          the app module (default: package.json "flotilla": { "app": PATH })
  --services A,B      services to run here (default: all; "none" for a gateway alone)
  --transport URL     memory:// (default) or nats://host:4222
  --registry URL      service discovery for client-side balancing: nats://host:4222 (NATS KV) or memory://
  --gateway           serve the app's HTTP gateway on --port
  --port N            gateway port (default: PORT or 8080)
  --host NAME         interface to listen on (default: HOST or localhost)
  --ops-port N        serve /livez, /readyz, /metrics on this port
  --data-dir DIR      where services keep their SQLite files (default: FLOTILLA_DATA_DIR or .flotilla/data)
`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      app: { type: "string" },
      services: { type: "string" },
      transport: { type: "string" },
      registry: { type: "string" },
      gateway: { type: "boolean" },
      port: { type: "string" },
      host: { type: "string" },
      "ops-port": { type: "string" },
      "data-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || positionals[0] !== "start") {
    process.stdout.write(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const app = await loadApp(values.app);
  const services = values.services === undefined ? undefined : parseList(values.services);
  const running = await runApp(app, {
    ...(services ? { services } : {}),
    transport: values.transport ?? process.env.FLOTILLA_TRANSPORT ?? "memory://?faithful=1",
    ...(values.gateway ? { gatewayPort: port(values.port ?? process.env.PORT ?? "8080", "--port") } : {}),
    listenHost: values.host ?? process.env.HOST ?? "localhost",
    ...(values.registry ? { registry: values.registry } : {}),
    ...(values["ops-port"] ? { opsPort: port(values["ops-port"], "--ops-port") } : {}),
    ...(values["data-dir"] ? { dataDir: values["data-dir"] } : {}),
  });
  const what = running.host.services.length > 0 ? running.host.services.join(", ") : "no services";
  console.log(`Flotilla ${app.name}: running ${what} over ${running.host.transport.name}`);
  if (running.url) console.log(`Flotilla ${app.name} listening on ${running.url}`);
  if (running.ops) console.log(`operations on ${running.ops.url} (/livez /readyz /metrics)`);
  stopOnSignals(running, app.name);
}

function parseList(value: string): string[] {
  return value === "none"
    ? []
    : value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a port number, got "${value}"`);
  return n;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const code = err instanceof FlotillaError ? ` [${err.code}]` : "";
  console.error(`flotilla: ${err instanceof Error ? err.message : String(err)}${code}`);
  process.exit(1);
});
