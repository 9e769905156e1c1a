/**
 * @module The Restate peer's caller: invokes the `BenchSaga` service through the server's ingress
 * (`--ingress`), one HTTP request per saga that answers once the saga ended, N in flight.
 *
 * Prints `{ready}`, takes `{run: {inFlight, warm, measured}}` and answers `{result}` (see load.ts).
 */
import { parseArgs } from "node:util";
import { receive, reply } from "../nats/io.js";
import { flushStdout } from "../outbox/flush.js";
import { failsAt } from "./flotilla-flow.js";
import { closedLoop } from "./load.js";

const { values } = parseArgs({ options: { ingress: { type: "string", default: "" } } });
if (values.ingress === "") throw new Error("--ingress http://127.0.0.1:PORT is required");

async function invoke(orderId: string, fail: boolean): Promise<number> {
  const res = await fetch(`${values.ingress}/BenchSaga/run`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ orderId, fail }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`BenchSaga/run ${orderId}: ${res.status} ${text}`);
  return (JSON.parse(text) as { commands: number }).commands;
}

reply({ ready: true, pid: process.pid });
for (let msg = await receive(), round = 0; msg !== undefined; msg = await receive(), round++) {
  const o = msg.run as { inFlight: number; warm: number; measured: number };
  let started = 0;
  const result = await closedLoop((i) => {
    started++;
    return invoke(`r${round}s${i}`, failsAt(i));
  }, o);
  reply({ result: { ...result, started } });
}
await flushStdout();
process.exit(0);
