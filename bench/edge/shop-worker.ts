/**
 * @module A Flotilla side of the edge benchmark: the shop run with `runApp`, as `flotilla start` runs
 * it, in one of three roles:
 *
 * - `embedded`: every service and the gateway in this process, on the default in-process transport
 *   (`memory://?faithful=1`);
 * - `gateway`: the gateway alone (no services) on `--transport nats://…`;
 * - `services`: the services `GET /api/v1/products/:id` needs, on `--transport nats://…`: the catalog,
 *   and the identity service when the shop has one (logging in goes to it).
 *
 * Logging is the default logger's: its level from FLOTILLA_LOG_LEVEL, JSON lines on stdout (the suite
 * points stdout at a file). Settings the shop reads from the environment (FLOTILLA_RATE_LIMIT,
 * FLOTILLA_TOKEN_CACHE) reach it unchanged.
 *
 * `npx tsx bench/edge/shop-worker.ts --role embedded --port 8080 --data-dir /tmp/x`
 */
import { parseArgs } from "node:util";
import { runApp } from "@flotilla/app";
import { shopApp } from "../../examples/shop/src/app.js";
import { announceReady } from "./processes.js";

const { values } = parseArgs({
  options: {
    role: { type: "string", default: "embedded" },
    port: { type: "string", default: "0" },
    transport: { type: "string" },
    "data-dir": { type: "string" },
  },
});

const role = values.role;
if (role !== "embedded" && role !== "gateway" && role !== "services") throw new Error(`unknown role ${role}`);
if (role !== "embedded" && values.transport === undefined) throw new Error(`--role ${role} needs --transport`);

const has = (name: string) => shopApp.services.some((s) => s.name === name);
const services =
  role === "embedded" ? undefined : role === "gateway" ? [] : ["catalog", ...(has("identity") ? ["identity"] : [])];

const running = await runApp(shopApp, {
  ...(services === undefined ? {} : { services }),
  ...(values.transport === undefined ? {} : { transport: values.transport }),
  ...(role === "services" ? {} : { gatewayPort: Number(values.port) }),
  listenHost: "127.0.0.1",
  ...(values["data-dir"] === undefined ? {} : { dataDir: values["data-dir"] }),
});

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  running.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error("stop failed", err);
      process.exit(1);
    },
  );
});

announceReady({ url: running.url ?? null, services: running.host.services, transport: running.host.transport.name });
