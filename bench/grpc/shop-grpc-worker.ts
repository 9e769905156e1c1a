/**
 * @module The gRPC benchmark's server: the shop embedded with `runApp`, its gateway serving HTTP and gRPC
 * (the committed `.proto`) from one process, as `flotilla start --gateway --grpc-port 0` runs it.
 *
 * `npx tsx bench/grpc/shop-grpc-worker.ts --data-dir /tmp/x`
 */
import { parseArgs } from "node:util";
import { runApp } from "@flotilla/app";
import { shopApp } from "../../examples/shop/src/app.js";
import { announceReady } from "../edge/processes.js";

const { values } = parseArgs({ options: { "data-dir": { type: "string" } } });

const running = await runApp(shopApp, {
  gatewayPort: 0,
  grpcPort: 0,
  listenHost: "127.0.0.1",
  ...(values["data-dir"] === undefined ? {} : { dataDir: values["data-dir"] }),
});

process.on("SIGTERM", () => {
  running.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

announceReady({ url: running.url ?? null, grpc: running.gateway?.grpc?.address ?? null });
