/**
 * @module The embedded shop of the checkout benchmark, in a process of its own: `runApp` with every
 * service and the gateway on the in-process transport (`memory://?faithful=1`, as `flotilla start`
 * runs embedded), SQLite in `--data-dir`, plus the observer service (checkout-observer.ts), which prints
 * `{terminal, status, ns}` for each order that ended.
 *
 * Prints `{ready, url}`; stops when stdin closes.
 */
import { parseArgs } from "node:util";
import { runApp } from "@flotilla/app";
import { destination, pino } from "pino";
import { shopApp } from "../../examples/shop/src/app.js";
import { reply, untilStopped } from "../nats/io.js";
import { observerService } from "./checkout-observer.js";

const { values } = parseArgs({ options: { "data-dir": { type: "string", default: "" } } });
if (values["data-dir"] === "") throw new Error("--data-dir is required");

const observer = observerService((terminal, status, ns) => reply({ terminal, status, ns }));
const running = await runApp(
  { ...shopApp, services: [...shopApp.services, observer] },
  {
    gatewayPort: 0,
    listenHost: "127.0.0.1",
    dataDir: values["data-dir"],
    // Warnings to stderr: stdout carries the JSON lines.
    logger: pino({ level: "warn" }, destination(2)),
  },
);
reply({ ready: true, url: running.url ?? null, pid: process.pid });
await untilStopped();
await running.stop();
process.exit(0);
