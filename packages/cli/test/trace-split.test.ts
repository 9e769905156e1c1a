/**
 * One checkout in split mode over NATS yields one trace. The shop runs as four `flotilla start`
 * processes; each exports its spans over OTLP/HTTP (set by the standard OTEL_* variables) to a receiver
 * this test runs, as a collector or Jaeger would be, and to the gateway's ops port (the trace
 * collector), where `flotilla trace <id>` draws the whole trace.
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { decodeOtlpJson, type SpanRecord } from "@flotilla/telemetry";
import { waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADDRESS, CARDS, type Headers, ShopClient } from "../../../examples/shop/test/support/shop-client.js";
import { Cluster, type FlotillaProcess, gatewayReady, root } from "./split-helpers.js";

const run = promisify(execFile);
const CALLER_SPAN = "00f067aa0ba902b7";

/** An OTLP/HTTP JSON receiver: what a collector would be given. */
async function otlpReceiver(): Promise<{ url: string; spans: SpanRecord[]; close(): Promise<void> }> {
  const spans: SpanRecord[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      spans.push(...decodeOtlpJson(Buffer.concat(chunks)));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("a checkout's trace, split over NATS", () => {
  let cluster: Cluster;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let gateway: FlotillaProcess;
  let participants: FlotillaProcess;
  let client: ShopClient;
  let demo: Headers;

  beforeAll(async () => {
    cluster = new Cluster();
    [receiver] = await Promise.all([otlpReceiver(), cluster.startNats()]);
    const exportTo = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: "200",
      SHOP_DISPATCH_DELAY_MS: "100",
      SHOP_DISPATCH_SWEEP_MS: "50",
    };
    gateway = await cluster.start("gateway", { services: "none", gateway: true, ops: true, env: exportTo });
    const env = { ...exportTo, FLOTILLA_TRACE_COLLECTOR: `${gateway.opsUrl}/v1/traces` };
    participants = await cluster.start("participants", { services: "inventory,payments,shipping", env, ops: true });
    await Promise.all([
      cluster.start("orders", { services: "orders", env }),
      cluster.start("rest", { services: "catalog,identity,notifications,recommendations,reviews", env }),
    ]);
    await gatewayReady(gateway, cluster, 30_000);
    client = new ShopClient(gateway.url);
    demo = await client.signIn("demo@flotilla.dev", "demo-password");
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
    await receiver?.close();
  }, 60_000);

  it("reaches an OTLP receiver whole: gateway, order, every saga step and participant, notification", {
    timeout: 90_000,
  }, async (ctx) => {
    ctx.onTestFailed(() => console.error(`processes:\n${cluster.dump()}`));
    const traceId = crypto.randomUUID().replaceAll("-", "");
    const placed = await client.placeOrder(
      demo,
      { items: [{ productId: "prod-french-press", quantity: 1 }], payment: { card: CARDS.ok }, shipping: ADDRESS },
      { traceparent: `00-${traceId}-${CALLER_SPAN}-01` },
    );
    expect(placed.status).toBe(202);
    await client.settled(demo, placed.body.orderId, new Set(["confirmed", "shipped"]), 60_000);

    const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    // Each process sends its spans in its own batches: wait until none is missing its parent.
    const whole = (spans: SpanRecord[]) => {
      const ids = new Set(spans.map((s) => s.spanId));
      return (
        spans.some((s) => s.service === "notifications" && s.kind === 4) &&
        spans.some((s) => s.name === "saga checkout settle commit") &&
        ["inventory", "payments", "shipping"].every((service) => spans.some((s) => s.service === service)) &&
        spans.every((s) => s.parentSpanId === CALLER_SPAN || ids.has(s.parentSpanId ?? ""))
      );
    };
    await waitFor(() => whole(inTrace()), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "the whole trace at the receiver",
    }).catch((err: Error) => {
      const seen = inTrace().map((s) => `${s.service}:${s.name} ${s.spanId} <- ${s.parentSpanId}`);
      throw new Error(`${err.message}; received:\n${seen.join("\n")}`);
    });
    const spans = inTrace();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: SpanRecord) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    for (const s of spans) {
      if (s.parentSpanId !== CALLER_SPAN) expect(parentOf(s), `parent of ${s.service}:${s.name}`).toBeDefined();
    }
    console.log("PARTS", await (await fetch(`${participants.opsUrl}/traces?limit=5`)).text());
    console.log("PARTS2", await (await fetch(`${participants.opsUrl}/traces/${traceId}`)).text());
    console.log("PARTSOUT", participants.output().slice(-3000));
    const services = new Set(spans.map((s) => s.service));
    for (const service of ["gateway", "orders", "catalog", "inventory", "payments", "shipping", "notifications"]) {
      expect(services, service).toContain(service);
    }
    const edge = spans.find((s) => s.service === "gateway" && s.name === "POST /api/v1/orders");
    expect(edge?.parentSpanId).toBe(CALLER_SPAN);
    for (const [step, service] of [
      ["reserve", "inventory"],
      ["charge", "payments"],
      ["ship", "shipping"],
      ["commit", "inventory"],
    ] as const) {
      const sent = spans.find((s) => s.name === `saga checkout ${step}`);
      expect(sent, `step ${step}`).toBeDefined();
      const served = spans.find((s) => s.service === service && s.kind === 1 && s.parentSpanId === sent?.spanId);
      expect(served, `${service} serving ${step}, across processes`).toBeDefined();
      expect(served?.instance).not.toBe(sent?.instance);
    }

    // The same trace, assembled at the gateway from every process, drawn by the CLI.
    let drawn = "";
    await waitFor(
      async () => {
        const { stdout } = await run(
          process.execPath,
          ["packages/cli/bin/flotilla.js", "trace", traceId, "--url", gateway.opsUrl, "--width", "160"],
          { cwd: root, env: { ...process.env, NO_COLOR: "1" } },
        ).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: `${err.stdout ?? ""}${err.stderr ?? ""}` }));
        drawn = stdout;
        // Every span the receiver got, the gateway has too: the collector is sent every one.
        return drawn.includes(` ${spans.length} spans `) && /saga checkout settle commit/.test(drawn);
      },
      { timeoutMs: 20_000, intervalMs: 250, what: "the whole trace at the gateway" },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; flotilla trace printed:\n${drawn}`);
    });
    for (const line of ["POST /api/v1/orders", "inventory.reserve", "payments.charge", "shipping.createShipment"]) {
      expect(drawn).toContain(line);
    }
  });
});
