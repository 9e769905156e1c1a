/**
 * @module One process of a Flotilla saga case (the four-step saga of flotilla-flow.ts).
 *
 * `--role embedded`: the orchestrating service and the participant in one host on the in-process
 * transport (`memory://?faithful=1`, as `flotilla start` runs embedded), SQLite databases in a temp dir.
 * `--role orchestrator`: the orchestrating service alone, over `--nats`, its database on PostgreSQL
 * (`--pg`, `{service}` naming the database). `--role participants`: the participant alone, over `--nats`.
 *
 * Prints `{ready}`. The orchestrating roles then take `{run: {inFlight, warm, measured}}` and answer
 * `{result}` (see load.ts) with the sagas they started; the participants run until stdin closes.
 *
 * `(echo '{"run":{"inFlight":10,"warm":100,"measured":1000}}'; sleep 30) | npx tsx bench/saga/flotilla-worker.ts --role embedded`
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createHost, type Host, type ServiceDefinition } from "@flotilla/core";
import { postgresDatabases, sqliteDatabases } from "@flotilla/data";
import { natsTransport } from "@flotilla/nats";
import { destination, pino } from "pino";
import { receive, reply, untilStopped } from "../nats/io.js";
import { flushStdout } from "../outbox/flush.js";
import { commandsOf, failsAt, orchestrating, stepsContract, stepsService } from "./flotilla-flow.js";
import { closedLoop } from "./load.js";

const { values } = parseArgs({
  options: {
    role: { type: "string", default: "embedded" },
    /** Service names get this suffix, so each case has fresh databases and streams. */
    tag: { type: "string", default: String(process.pid) },
    nats: { type: "string", default: "" },
    pg: { type: "string", default: "" },
  },
});
const role = values.role;
if (role !== "embedded" && role !== "orchestrator" && role !== "participants") {
  throw new Error(`unknown role ${role}: embedded, orchestrator or participants`);
}
if (role !== "embedded" && (values.nats === "" || (role === "orchestrator" && values.pg === ""))) {
  throw new Error(`--role ${role} needs --nats nats://… (and the orchestrator --pg postgres://…/{service})`);
}

const steps = stepsContract(`steps${values.tag}`);
const orchestrator = orchestrating(`sagas${values.tag}`, steps);
const services: ServiceDefinition[] = [];
if (role !== "participants") services.push(orchestrator.definition);
if (role !== "orchestrator") services.push(stepsService(steps));

// Warnings (a relay retrying) to stderr: stdout carries the JSON lines.
const logger = pino({ level: "warn" }, destination(2));
const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-saga-"));
let host: Host | undefined;
try {
  host = createHost({
    services,
    logger,
    ...(role === "embedded"
      ? { transport: "memory://?faithful=1", resources: [sqliteDatabases({ dataDir: dir })] }
      : {
          transport: values.nats,
          transports: { nats: natsTransport },
          // The participant keeps no state: no database.
          resources: role === "orchestrator" ? [postgresDatabases({ url: values.pg })] : [],
        }),
  });
  await host.start();
  reply({ ready: true, pid: process.pid });
  if (role === "participants") await untilStopped();
  else {
    for (let msg = await receive(), round = 0; msg !== undefined; msg = await receive(), round++) {
      const o = msg.run as { inFlight: number; warm: number; measured: number };
      let started = 0;
      const result = await closedLoop(async (i) => {
        started++;
        return commandsOf(await orchestrator.run(`r${round}s${i}`, failsAt(i)));
      }, o);
      reply({ result: { ...result, started } });
    }
  }
  await host.stop();
  host = undefined;
} finally {
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
}
await flushStdout();
process.exit(0);
