/**
 * @module One side of one case of the distributed RPC benchmark, in its own process.
 *
 * `--role server`: serves the echo action, prints `{ready}`, and when stdin closes stops and prints
 * `{handled}`. `--role client`: calls it for the warm-up and the measured phase with `--in-flight`
 * calls at once and prints the result. One side alone, against a running nats-server:
 * `npx tsx bench/nats/rpc-worker.ts --role server --impl flotilla --url nats://127.0.0.1:4222`.
 */
import { parseArgs } from "node:util";
import { reply, untilStopped } from "./io.js";
import { measureWindow } from "./measure.js";
import { RPC_EXTRA_IMPLS, RPC_IMPLS, type RpcImpl, startClient, startServer } from "./rpc-cases.js";

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    impl: { type: "string" },
    url: { type: "string" },
    "in-flight": { type: "string", default: "1" },
    time: { type: "string", default: "3000" },
    warmup: { type: "string", default: "1000" },
  },
});
const impl = values.impl as RpcImpl;
if (
  ![...RPC_IMPLS, ...RPC_EXTRA_IMPLS].includes(impl) ||
  values.url === undefined ||
  (values.role !== "server" && values.role !== "client")
) {
  console.error(
    `usage: rpc-worker.ts --role server|client --impl ${[...RPC_IMPLS, ...RPC_EXTRA_IMPLS].join("|")} --url nats://…`,
  );
  process.exit(2);
}

if (values.role === "server") {
  const server = await startServer(impl, values.url);
  reply({ ready: true });
  await untilStopped();
  await server.close();
  reply({ handled: server.handled() });
} else {
  const client = await startClient(impl, values.url);
  const inFlight = Number(values["in-flight"]);
  const m = await measureWindow(() => client.call(), {
    inFlight,
    timeMs: Number(values.time),
    warmupMs: Number(values.warmup),
    onMeasure: () => reply({ measuring: true }),
  });
  await client.close();
  reply({ result: { impl, inFlight, ...m } });
}
process.exit(0);
