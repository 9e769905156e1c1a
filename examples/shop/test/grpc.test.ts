/**
 * The shop over gRPC, embedded: the committed `.proto` is what the contracts give, and a real gRPC client
 * built from it signs in, places an order and watches it go pending → confirmed → shipped on the live stream.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { appProto } from "@flotilla/app";
import { type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GrpcTestClient, grpcClient, plain } from "../../../packages/gateway/test/grpc/grpc-client.js";
import { shopApp } from "../src/app.js";
import { actionCounter, type CountedShop, startCountedShop } from "./support/attack.js";
import { ADDRESS, CARDS } from "./support/shop-client.js";

const PROTO_FILE = fileURLToPath(new URL("../proto/shop.proto", import.meta.url));
const committed = readFileSync(PROTO_FILE, "utf8");

describe("the shop's .proto", () => {
  it("is what the contracts give today (after a contract change: `npx flotilla proto`, then commit)", () => {
    expect(appProto(shopApp, committed)).toBe(committed);
  });
});

interface LiveEvent {
  id: string;
  type: string;
  eventId: string;
  data: Record<string, unknown> | undefined;
}

describe("the shop over gRPC", () => {
  let shop: CountedShop;
  let client: GrpcTestClient;
  beforeAll(async () => {
    shop = await startCountedShop(actionCounter(), {
      env: {
        FLOTILLA_RATE_LIMIT: "1000000/1",
        SHOP_DISPATCH_DELAY_MS: "200",
        SHOP_DISPATCH_SWEEP_MS: "100",
        FLOTILLA_GRPC_PORT: "0",
      },
    });
    client = grpcClient(shop.app.gateway!.grpc!.address!, committed, "flotilla.shop.v1");
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await shop?.stop();
  });

  async function signIn(): Promise<Record<string, string>> {
    const { response } = await client.call("IdentityService/Login", {
      email: "demo@flotilla.dev",
      password: "demo-password",
    });
    return { authorization: `Bearer ${response.token as string}` };
  }

  it("answers a product as the HTTP API does", async () => {
    const { response } = await client.call("CatalogService/GetProduct", { id: "prod-french-press" });
    const http = await (await fetch(`${shop.url}/api/v1/products/prod-french-press`)).json();
    expect({ ...response, price: Number(response.price) }).toEqual(http);
  });

  it("streams a buyer's order going pending → confirmed → shipped", async () => {
    const auth = await signIn();
    const stream = client.stream(
      "LiveService/Live",
      { types: ["orders.OrderPlaced", "orders.OrderStatusChanged"] },
      auth,
    );
    const events: LiveEvent[] = [];
    const waiters: (() => void)[] = [];
    stream.on("data", (m: Record<string, unknown>) => {
      events.push({
        id: m.id as string,
        type: m.type as string,
        eventId: m.eventId as string,
        data: plain(m.data) as LiveEvent["data"],
      });
      for (const w of waiters.splice(0)) w();
    });
    stream.on("error", () => undefined); // the cancel at the end
    const next = async (match: (e: LiveEvent) => boolean, what: string): Promise<LiveEvent> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const found = events.find(match);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no ${what} in ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 500);
        });
      }
    };
    await next((e) => e.type === "ready", "ready");
    const placed = await client.call(
      "OrdersService/CreateOrder",
      { items: [{ productId: "prod-french-press", quantity: 1 }], payment: { card: CARDS.ok }, shipping: ADDRESS },
      { ...auth, "idempotency-key": randomUUID() },
    );
    const orderId = placed.response.orderId as string;
    expect(placed.response.status).toBe("pending");
    const ofOrder = (e: LiveEvent) => e.data?.orderId === orderId;
    await next((e) => ofOrder(e) && e.data?.status === "shipped", "shipped");
    const statuses = events.filter(ofOrder).map((e) => (e.type === "orders.OrderPlaced" ? "pending" : e.data?.status));
    expect(statuses).toEqual(["pending", "confirmed", "shipped"]);
    // Only the types asked for: the buyer's notifications are not on this stream.
    expect(events.every((e) => e.type !== "notifications.NotificationCreated")).toBe(true);
    // The stream counts among the gateway's live connections, under its own protocol.
    const admin = await client.call("IdentityService/Login", {
      email: "admin@flotilla.dev",
      password: "admin-password",
    });
    const metrics = await fetch(`${shop.url}/metrics`, {
      headers: { authorization: `Bearer ${admin.response.token}` },
    });
    expect(await metrics.text()).toMatch(/^flotilla_live_connections\{protocol="grpc"\} 1$/m);
    stream.cancel();
    const { response } = await client.call("OrdersService/GetOrder", { id: orderId }, auth);
    expect(response.status).toBe("shipped");
  }, 60_000);

  it("refuses the live stream without a signed-in caller", async () => {
    const stream = client.stream("LiveService/Live", {});
    const err = await new Promise<ServiceError>((resolve) => stream.on("error", resolve));
    expect(err.code).toBe(status.UNAUTHENTICATED);
  });

  it("refuses an order without a caller as the HTTP API does: UNAUTHENTICATED", async () => {
    const err = await client
      .call("OrdersService/CreateOrder", { items: [{ productId: "prod-french-press", quantity: 1 }] })
      .then(
        () => undefined,
        (e: ServiceError) => e,
      );
    expect(err?.code).toBe(status.UNAUTHENTICATED);
    const http = await fetch(`${shop.url}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: [{ productId: "prod-french-press", quantity: 1 }] }),
    });
    expect(http.status).toBe(401);
    const body = (await http.json()) as { error: { code: string } };
    expect(err?.metadata.get("flotilla-code")[0]).toBe(body.error.code);
  });
});
