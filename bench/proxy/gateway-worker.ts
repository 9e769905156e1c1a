/**
 * @module The proxy benchmark's Flotilla gateway: an app with no services and one proxy route to the
 * monolith, run by `runApp` as a deployment would (request metrics, upstream metrics, tracing into the
 * embedded trace store), with the access log off, as nginx's is.
 *
 * `npx tsx bench/proxy/gateway-worker.ts --upstream http://127.0.0.1:8081 --data-dir /tmp/proxy-bench`
 */
import { parseArgs } from "node:util";
import { defineApp, runApp } from "@flotilla/app";
import { proxy } from "@flotilla/gateway";
import { announceReady } from "../edge/processes.js";

const { values } = parseArgs({
  options: { upstream: { type: "string" }, "data-dir": { type: "string" } },
});
if (values.upstream === undefined || values["data-dir"] === undefined) {
  throw new Error("--upstream URL and --data-dir DIR are required");
}

const app = defineApp({
  name: "proxy-bench",
  services: [],
  gateway: {
    routes: [],
    upstreams: { legacy: { targets: [values.upstream], connections: 64 } },
    proxies: [proxy({ path: "/products/:id/reviews", methods: ["GET"], upstream: "legacy" })],
  },
});
const running = await runApp(app, { gatewayPort: 0, listenHost: "127.0.0.1", dataDir: values["data-dir"] });
process.on("SIGTERM", () => {
  running.stop().then(() => process.exit(0));
});
announceReady({ url: running.url });
