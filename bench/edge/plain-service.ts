/**
 * @module The edge benchmark's plain service: a tiny fastify app answering `GET /api/v1/products/:id`
 * with the shop's demo product as JSON (the same body as the shop's catalog), from a map in memory.
 * No logger, no validation, no database: what a proxy in front of it adds is then most of the cost.
 *
 * `npx tsx bench/edge/plain-service.ts --port 8081`
 */
import { parseArgs } from "node:util";
import Fastify from "fastify";
import { demoProducts } from "../../examples/shop/src/services/catalog/seed.js";
import { announceReady } from "./processes.js";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });

const products = new Map(demoProducts.map((p) => [p.id, p]));
const app = Fastify({ logger: false });

app.get<{ Params: { id: string } }>("/api/v1/products/:id", async (req, reply) => {
  const product = products.get(req.params.id);
  if (product === undefined) {
    return reply
      .code(404)
      .send({ error: { code: "PRODUCT_NOT_FOUND", message: `product ${req.params.id} does not exist` } });
  }
  return product;
});

const url = await app.listen({ port: Number(values.port), host: "127.0.0.1" });
process.on("SIGTERM", () => {
  app.close().then(() => process.exit(0));
});
announceReady({ url });
