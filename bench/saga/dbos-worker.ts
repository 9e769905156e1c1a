/**
 * @module The DBOS peer: the benchmark's four-step workflow with compensation as a DBOS workflow
 * (`@dbos-inc/dbos-sdk`), its checkpoints in a PostgreSQL system database of its own (`--pg`, the
 * run's server). Each step is a `DBOS.runStep` doing the same trivial work as Flotilla's participant;
 * the last step of every fourth workflow throws, and the three steps done are undone in reverse, each
 * undo a step of its own. The workflow runs in this process, as DBOS runs workflows.
 *
 * Prints `{ready}`, takes `{run: {inFlight, warm, measured}}` and answers `{result}` (see load.ts).
 */
import { parseArgs } from "node:util";
import { DBOS } from "@dbos-inc/dbos-sdk";
import { receive, reply } from "../nats/io.js";
import { flushStdout } from "../outbox/flush.js";
import { failsAt } from "./flotilla-flow.js";
import { closedLoop } from "./load.js";

const { values } = parseArgs({ options: { pg: { type: "string", default: "" } } });
if (values.pg === "") throw new Error("--pg postgres://…/database is required");

const done = async (stepId: string) => `ok:${stepId}`;
const undone = async (_stepId: string) => true;

class Refused extends Error {}

const FORWARD = ["reserve", "charge", "ship"] as const;
const UNDO = { reserve: "release", charge: "refund", ship: "cancelShipment" } as const;

async function benchSaga(orderId: string, fail: boolean): Promise<{ outcome: string; commands: number }> {
  const doneSteps: (typeof FORWARD)[number][] = [];
  for (const name of FORWARD) {
    await DBOS.runStep(() => done(`${orderId}:${name}`), { name });
    doneSteps.push(name);
  }
  try {
    await DBOS.runStep(
      async () => {
        if (fail) throw new Refused(`step ${orderId}:commit refused`);
        return done(`${orderId}:commit`);
      },
      { name: "commit" },
    );
    return { outcome: "completed", commands: 4 };
  } catch (err) {
    if (!(err instanceof Refused) && !String(err).includes("refused")) throw err;
    for (const name of doneSteps.reverse()) {
      await DBOS.runStep(() => undone(`${orderId}:${name}`), { name: UNDO[name] });
    }
    return { outcome: "compensated", commands: 7 };
  }
}

const workflow = DBOS.registerWorkflow(benchSaga, { name: "benchSaga" });

DBOS.setConfig({ name: "flotilla-saga-bench", systemDatabaseUrl: values.pg, logLevel: "warn" });
await DBOS.launch();
reply({ ready: true, pid: process.pid });
for (let msg = await receive(), round = 0; msg !== undefined; msg = await receive(), round++) {
  const o = msg.run as { inFlight: number; warm: number; measured: number };
  let started = 0;
  const result = await closedLoop(async (i) => {
    started++;
    return (await workflow(`r${round}s${i}`, failsAt(i))).commands;
  }, o);
  reply({ result: { ...result, started } });
}
await DBOS.shutdown();
await flushStdout();
process.exit(0);
