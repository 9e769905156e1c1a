/**
 * Traffic changes across gateways over a real nats-server: a change made at one gateway reaches the
 * other at once, and a gateway started after it takes it from the event history before serving.
 */
import { createHost, type Host } from "@flotilla/core";
import { natsTransport } from "@flotilla/nats";
import { type NatsServerHandle, startNatsServer } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway, route, splitRoute } from "../../src/index.js";
import { catalog, catalogService } from "../support/services.js";
import { until } from "./support.js";

const PATH = "/products/:id";
const byId = (r: { params: { id: string } }) => ({ id: r.params.id });
const split = splitRoute({
  name: "products",
  method: "GET",
  path: PATH,
  variants: {
    stable: route({ method: "GET", path: PATH, action: catalog.getProduct, input: byId }),
    canary: route({ method: "GET", path: PATH, action: catalog.getProduct, input: byId }),
  },
  default: "stable",
});

interface Edge {
  readonly host: Host;
  readonly gateway: Gateway;
  readonly url: string;
}

describe("traffic rules on every gateway, over NATS", () => {
  let nats: NatsServerHandle;
  let service: Host;
  const edges: Edge[] = [];
  const over = (url: string) => ({ transport: url, transports: { nats: natsTransport } });

  async function edge(): Promise<Edge> {
    const host = createHost(over(nats.url));
    await host.start();
    // Open admin routes: who may change rules is the route-split test's subject, not this one's.
    const gateway = createGateway({
      host,
      routes: [],
      splits: { products: split },
      traffic: { adminPolicies: [] },
      accessLog: false,
    });
    const e = { host, gateway, url: await gateway.listen() };
    edges.push(e);
    return e;
  }
  const variantAt = async (e: Edge) => {
    const res = await fetch(`${e.url}/products/p1`);
    expect(res.status).toBe(200);
    return res.headers.get("flotilla-variant");
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    service = createHost({ ...over(nats.url), services: [catalogService] });
    await service.start();
  }, 30_000);
  afterAll(async () => {
    for (const e of edges) {
      await e.gateway.close();
      await e.host.stop();
    }
    await service?.stop();
    await nats?.stop();
  });

  it("applies a change made at one gateway at the other, and at a gateway started later", async () => {
    const one = await edge();
    const two = await edge();
    expect(await variantAt(one)).toBe("stable");
    expect(await variantAt(two)).toBe("stable");

    const res = await fetch(`${one.url}/_flotilla/traffic/products`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ weights: { stable: 0, canary: 100 } }),
    });
    expect(res.status).toBe(200);
    expect(await variantAt(one)).toBe("canary");
    await until(async () => (await variantAt(two)) === "canary", "the second gateway applies the change");
    const listed = (await (await fetch(`${two.url}/_flotilla/traffic`)).json()) as {
      splits: { origin: string; version: number }[];
    };
    expect(listed.splits[0]).toMatchObject({ origin: "event", version: 1 });

    // Started after the change, with nothing but the transport to learn it from: it serves it from the first request.
    const late = await edge();
    expect(await variantAt(late)).toBe("canary");
    const seen = (await (await fetch(`${late.url}/_flotilla/traffic`)).json()) as { splits: { version: number }[] };
    expect(seen.splits[0]?.version).toBe(1);
  });
});
