/**
 * @module A gateway with one route to a trivial action, for profiling the request path. Usage:
 * `npx tsx packages/gateway/bench/hot-path.ts [--port 3900] [--access-log true|errors|false] [--async-log] > /dev/null`
 * (the access log goes to stdout),
 * then `npx autocannon -c 50 -d 10 http://127.0.0.1:3900/api/v1/products/p1`.
 */
import { parseArgs } from "node:util";
import { action, createHost, defineContract, defineService } from "@flotilla/core";
import { pino } from "pino";
import { z } from "zod";
import { createGateway, route } from "../src/index.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "3900" },
    "access-log": { type: "string", default: "true" },
    /** Log through an asynchronous destination (buffered writes) instead of pino's default synchronous one. */
    "async-log": { type: "boolean", default: false },
  },
});
const accessLog = values["access-log"] === "errors" ? "errors" : values["access-log"] !== "false";

const catalog = defineContract({
  service: "catalog",
  actions: {
    getProduct: action({
      input: z.object({ id: z.string().min(1).max(64) }),
      output: z.object({ id: z.string(), name: z.string(), price: z.number() }),
    }),
  },
});
const service = defineService(catalog, {
  actions: { getProduct: ({ id }) => ({ id, name: "Teapot", price: 12.5 }) },
});

const logger = values["async-log"]
  ? pino({}, pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 }))
  : undefined;
const host = createHost({ services: [service], transport: "memory://?faithful=1", ...(logger ? { logger } : {}) });
await host.start();
const gateway = createGateway({
  host,
  accessLog,
  routes: [
    route({
      method: "GET",
      path: "/api/v1/products/:id",
      action: catalog.getProduct,
      input: (req) => ({ id: req.params.id }),
    }),
  ],
});
const url = await gateway.listen({ port: Number(values.port) });
console.error(`listening on ${url}`);
const stop = async () => {
  await gateway.close();
  await host.stop();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
