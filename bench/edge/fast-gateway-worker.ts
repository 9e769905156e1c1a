/**
 * @module The edge benchmark's fast-gateway side: fast-gateway 5.0.1 (restana + fast-proxy-lite, whose
 * agent keeps connections alive) proxying `/api/*` unchanged to the plain service at `--target`. It
 * passes every request header on, `Authorization` included, and verifies nothing.
 *
 * `npx tsx bench/edge/fast-gateway-worker.ts --port 8082 --target http://127.0.0.1:8081`
 */
import { parseArgs } from "node:util";
import gateway from "fast-gateway";
import { announceReady } from "./processes.js";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, target: { type: "string" } } });
if (values.target === undefined) throw new Error("--target is required");

const server = gateway({ routes: [{ prefix: "/api", prefixRewrite: "/api", target: values.target }] });
const http = await server.start(Number(values.port), "127.0.0.1");
const address = http.address();
const port = typeof address === "object" && address !== null ? address.port : Number(values.port);
process.on("SIGTERM", () => {
  server.close().then(() => process.exit(0));
});
announceReady({ url: `http://127.0.0.1:${port}` });
