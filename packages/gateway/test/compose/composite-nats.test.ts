/** @module A composite route over a real nats-server: the gateway's host runs no service, the shelf runs in another host. */
import { createHost, type Host } from "@flotilla/core";
import { natsTransport } from "@flotilla/nats";
import { type NatsServerHandle, startNatsServer } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { composite, createGateway, type Gateway } from "../../src/index.js";
import { expectError } from "../support/harness.js";
import { ShelfState, shelf, shelfService } from "./support/shelf.js";

const page = composite({
  name: "web.productPage",
  method: "GET",
  path: "/products/:id/page",
  parts: (p) => ({
    product: p.action(shelf.product, (req) => ({ id: req.params.id })),
    stock: p.action(shelf.stock, (req) => ({ id: req.params.id, hang: req.query.hang === "stock" }), {
      optional: true,
      timeoutMs: 200,
    }),
    first: p.action(shelf.meet, (req) => ({ me: `first-${req.params.id}`, other: `second-${req.params.id}` })),
    second: p.action(shelf.meet, (req) => ({ me: `second-${req.params.id}`, other: `first-${req.params.id}` })),
  }),
  shape: ({ product, stock }, { partial }) => ({
    ...product,
    available: stock?.available ?? null,
    partial: [...partial],
  }),
  output: z.object({
    id: z.string(),
    name: z.string(),
    available: z.number().nullable(),
    partial: z.array(z.string()),
  }),
});

describe("composite routes over NATS", () => {
  let nats: NatsServerHandle;
  let service: Host;
  let edge: Host;
  let gateway: Gateway;
  let url: string;
  const state = new ShelfState();
  const over = (natsUrl: string) => ({ transport: natsUrl, transports: { nats: natsTransport } });

  beforeAll(async () => {
    nats = await startNatsServer();
    service = createHost({ ...over(nats.url), services: [shelfService(state)] });
    await service.start();
    edge = createHost(over(nats.url));
    await edge.start();
    gateway = createGateway({ host: edge, routes: [page], accessLog: false });
    url = await gateway.listen();
  }, 30_000);
  afterAll(async () => {
    state.release();
    await gateway?.close();
    await edge?.stop();
    await service?.stop();
    await nats?.stop();
  });

  it("runs the parts at once in the other process, and answers partially when an optional one times out", async () => {
    const whole = await fetch(`${url}/products/a/page`);
    expect(whole.status).toBe(200);
    expect(await whole.json()).toEqual({ id: "a", name: "Product a", available: 7, partial: [] });

    const partial = await fetch(`${url}/products/b/page?hang=stock`);
    expect(partial.status).toBe(200);
    expect(partial.headers.get("flotilla-partial")).toBe("stock");
    expect(await partial.json()).toEqual({ id: "b", name: "Product b", available: null, partial: ["stock"] });
    state.release();

    await expectError(await fetch(`${url}/products/missing/page`), 404, "PRODUCT_NOT_FOUND");
  }, 30_000);
});
