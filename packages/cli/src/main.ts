/** @module The `flotilla` command: `start`, `dlq`, `replay`, `edge-keys`, `trace`, `traces`, `proto`, `traffic`, the supervisor's commands and `dashboard`. */
import { FlotillaError } from "@flotilla/core";
import { TRAFFIC_USAGE } from "./commands/traffic.js";
import { UsageError } from "./options.js";
import {
  DASHBOARD_USAGE,
  DEPLOY_K8S_USAGE,
  DEV_USAGE,
  DLQ_USAGE,
  EDGE_KEYS_USAGE,
  NATS_CONFIG_USAGE,
  PROTO_USAGE,
  PS_USAGE,
  REPLAY_USAGE,
  RESTART_USAGE,
  SCALE_USAGE,
  START_USAGE,
  TRACE_USAGE,
  TRACES_USAGE,
  UP_USAGE,
} from "./usage.js";

const OVERVIEW = `usage: flotilla <command> [options]

  start                        run services of an app in this process
  dlq list|show|retry|drop     inspect dead letters, deliver them again or drop them
  replay SERVICE.PROJECTION    rebuild a projection from the event history while the app runs
  edge-keys create|rotate|public  the keys that sign and verify callers behind the gateway
  trace ID                     draw one trace as a waterfall
  traces [--slow] [--errors]   list recent (or the slowest) traces
  proto [--check]              write (or check) the .proto of the routes' gRPC face
  traffic [set|report]         list or change a gateway's traffic splits, print their comparison reports
  nats-config                  a nats-server configuration with a least-privilege user per unit
  deploy k8s                   Kubernetes manifests for the app's deployment units
  up                           run the app split under a supervisor that heals and scales it
  ps | scale UNIT=N | restart UNIT  a running supervisor's status, scale a unit, restart a unit rolling
  dev                          run the app split into units and restart only those whose source changed
  dashboard --nats URL         serve the web dashboard of a split system

"flotilla <command> --help" shows one command's options.
`;

interface Command {
  readonly usage: string;
  /** Loaded on use: a command does not pay for loading what only another one needs. */
  run(args: string[]): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  start: { usage: START_USAGE, run: async (args) => (await import("./commands/start.js")).start(args) },
  dlq: { usage: DLQ_USAGE, run: async (args) => (await import("./commands/dlq.js")).dlq(args) },
  replay: { usage: REPLAY_USAGE, run: async (args) => (await import("./commands/replay.js")).replay(args) },
  "edge-keys": {
    usage: EDGE_KEYS_USAGE,
    run: async (args) => (await import("./commands/edge-keys.js")).edgeKeys(args),
  },
  trace: { usage: TRACE_USAGE, run: async (args) => (await import("./commands/trace.js")).traceCommand(args) },
  traces: { usage: TRACES_USAGE, run: async (args) => (await import("./commands/traces.js")).tracesCommand(args) },
  proto: { usage: PROTO_USAGE, run: async (args) => (await import("./commands/proto.js")).proto(args) },
  traffic: { usage: TRAFFIC_USAGE, run: async (args) => (await import("./commands/traffic.js")).traffic(args) },
  "nats-config": {
    usage: NATS_CONFIG_USAGE,
    run: async (args) => (await import("./commands/nats-config.js")).natsConfig(args),
  },
  deploy: { usage: DEPLOY_K8S_USAGE, run: async (args) => (await import("./commands/deploy-k8s.js")).deployK8s(args) },
  up: { usage: UP_USAGE, run: async (args) => (await import("./commands/up.js")).up(args) },
  ps: { usage: PS_USAGE, run: async (args) => (await import("./commands/ps.js")).ps(args) },
  scale: { usage: SCALE_USAGE, run: async (args) => (await import("./commands/scale.js")).scale(args) },
  restart: { usage: RESTART_USAGE, run: async (args) => (await import("./commands/restart.js")).restart(args) },
  dev: { usage: DEV_USAGE, run: async (args) => (await import("./commands/dev.js")).dev(args) },
  dashboard: {
    usage: DASHBOARD_USAGE,
    run: async (args) => (await import("./commands/dashboard.js")).dashboard(args),
  },
};

const FULL_USAGE = [
  OVERVIEW,
  START_USAGE,
  DLQ_USAGE,
  REPLAY_USAGE,
  EDGE_KEYS_USAGE,
  TRACE_USAGE,
  TRACES_USAGE,
  PROTO_USAGE,
  TRAFFIC_USAGE,
  NATS_CONFIG_USAGE,
  DEPLOY_K8S_USAGE,
  UP_USAGE,
  PS_USAGE,
  SCALE_USAGE,
  RESTART_USAGE,
  DEV_USAGE,
  DASHBOARD_USAGE,
].join("\n");

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(FULL_USAGE);
    return;
  }
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command === undefined) {
    const why = name === undefined ? "no command given" : `unknown command "${name}"`;
    process.stderr.write(`flotilla: ${why}\n\n${FULL_USAGE}`);
    process.exitCode = 2;
    return;
  }
  try {
    await command.run(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`flotilla ${name}: ${err.message}\n\n${command.usage}`);
    process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const code = err instanceof FlotillaError ? ` [${err.code}]` : "";
  console.error(`flotilla: ${err instanceof Error ? err.message : String(err)}${code}`);
  process.exit(1);
});
