/**
 * @module The route-count benchmark's server: one gateway (`createGateway`) over the in-process
 * transport with `--routes N` routes of `route-table.ts`, each calling the same trivial action. No
 * policies, tracing, metrics or access log: what is left per request is the HTTP server, the routing,
 * the input and the call, so a routing cost that grows with the table shows as much as it can.
 *
 * `npx tsx bench/routes/gateway-worker.ts --routes 1000 --port 8080`
 */
import { parseArgs } from "node:util";
import { action, createHost, defineContract, defineService } from "@flotilla/core";
import { createGateway, route } from "@flotilla/gateway";
import { pino } from "pino";
import { z } from "zod";
import { announceReady } from "../edge/processes.js";
import { routeTable } from "./route-table.js";

const { values } = parseArgs({ options: { routes: { type: "string" }, port: { type: "string", default: "0" } } });
const count = Number(values.routes);

const bench = defineContract({
  service: "bench",
  actions: { echo: action({ input: z.record(z.string(), z.unknown()), output: z.object({ ok: z.literal(true) }) }) },
});
const benchService = defineService(bench, { actions: { echo: () => ({ ok: true as const }) } });

const host = createHost({ services: [benchService], transport: "memory://", logger: pino({ level: "warn" }) });
await host.start();
const routes = routeTable(count).map((r) => route({ method: r.method, path: r.path, action: bench.echo }));
const started = performance.now();
const gateway = createGateway({ host, routes, accessLog: false });
const url = await gateway.listen({ port: Number(values.port), host: "127.0.0.1" });
const setupMs = performance.now() - started;

process.on("SIGTERM", () => {
  gateway
    .close()
    .then(() => host.stop())
    .then(() => process.exit(0));
});
announceReady({ url, routes: routes.length, setupMs, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 });
