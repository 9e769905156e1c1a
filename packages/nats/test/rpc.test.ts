import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { action, createHost, defineContract, defineService, FlotillaError } from "@flotilla/core";
import { freePort, rejectionOf } from "@flotilla/testing";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { NatsTransport, natsTransport } from "../src/index.js";
import { event, type Network, network, request, serveDefaults } from "./helpers.js";

const greeter = defineContract({
  service: "greeter",
  actions: { greet: action({ input: z.object({ name: z.string() }), output: z.object({ text: z.string() }) }) },
});

describe("nats transport: request/reply", () => {
  let net: Network;
  afterEach(() => net?.close());

  it("resolves from a nats:// URL as a host's TransportFactory", async () => {
    net = await network();
    const url = `${net.server.url}?name=greeter-test&publishTimeoutMs=3000`;
    const service = defineService(greeter, { actions: { greet: async ({ name }) => ({ text: `hello ${name}` }) } });
    const server = createHost({ services: [service], transport: url, transports: { nats: natsTransport } });
    const client = createHost({ transport: url, transports: { nats: natsTransport } });
    await server.start();
    await client.start();
    try {
      expect(await client.call(greeter.greet, { name: "ada" })).toEqual({ text: "hello ada" });
      expect(await client.transport.isAvailable("greeter")).toBe(true);
      expect(await client.transport.isAvailable("nobody")).toBe(false);
    } finally {
      await client.stop();
      await server.stop();
    }
    expect(() => natsTransport(new URL(`${net.server.url}?bogus=1`))).toThrow(/bogus/);
  });

  it("answers FLOTILLA_NO_INSTANCE at once when nobody serves the service or the instance", async () => {
    net = await network();
    const client = await net.connect();
    const started = Date.now();
    const none = await rejectionOf(() => client.request(request("ghost.call", {}), { timeoutMs: 10_000 }));
    expect(none).toMatchObject({ code: "FLOTILLA_NO_INSTANCE", status: "UNAVAILABLE" });
    const server = await net.connect();
    await server.serve({ service: "ghost", instance: "ghost-1", ...serveDefaults }, async () => ({}));
    const gone = await rejectionOf(() =>
      client.request(request("ghost.call", {}, { instance: "ghost-2" }), { timeoutMs: 10_000 }),
    );
    expect(gone).toMatchObject({ code: "FLOTILLA_NO_INSTANCE", message: "instance ghost-2 is not available" });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("passes headers through and marks error replies with the ADR-32 service error headers", async () => {
    net = await network();
    const server = await net.connect();
    await server.serve({ service: "svc", instance: "svc-1", ...serveDefaults }, async (req) => {
      if (req.action === "svc.fail") throw new FlotillaError("NOT_FOUND", "no such thing", { details: { id: 1 } });
      const { meta } = req;
      const left = meta.deadline - Date.now();
      return {
        headers: req.headers,
        instance: req.instance ?? null,
        meta,
        inTime: left > 0 && left <= 2_000,
      };
    });
    const client = await net.connect();
    const sent = request("svc.look", {}, { instance: "svc-1", headers: { "x-extra": "1" } });
    const reply = await client.request(sent, { timeoutMs: 2_000 });
    // Metadata crosses as headers and comes back as objects; extra headers pass as they are.
    expect(reply).toMatchObject({
      instance: "svc-1",
      headers: { "x-extra": "1" },
      meta: {
        trace: { traceId: sent.meta.trace.traceId, spanId: sent.meta.trace.spanId },
        correlationId: sent.meta.correlationId,
      },
      inTime: true,
    });
    const err = await rejectionOf(() => client.request(request("svc.fail", {}), { timeoutMs: 2_000 }));
    expect(err).toMatchObject({ code: "NOT_FOUND", message: "no such thing", details: { id: 1 } });

    const raw = await client.connection!.request("flotilla.rpc.svc.fail", "{}", {
      timeout: 2_000,
      headers: withTimeout(),
    });
    expect(raw.headers?.get("Nats-Service-Error-Code")).toBe("404");
    expect(raw.headers?.get("Nats-Service-Error")).toBe("no such thing");
    expect(raw.headers?.get("flotilla-error")).toBe("NOT_FOUND");
    // A request without time left is refused by the transport; the handler never runs.
    const late = await client.connection!.request("flotilla.rpc.svc.fail", "{}", { timeout: 2_000 });
    expect(late.headers?.get("flotilla-error")).toBe("DEADLINE_EXCEEDED");
  });

  it("enforces the server's max_payload on requests, replies and events", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-nats-conf-"));
    const config = join(dir, "small.conf");
    writeFileSync(config, "max_payload: 4096\n");
    net = await network({ args: ["-c", config] }).finally(() => rmSync(dir, { recursive: true }));
    const server = await net.connect();
    let handled = 0;
    await server.serve({ service: "svc", instance: "svc-1", ...serveDefaults }, async (req) => {
      handled++;
      return "z".repeat(req.payload as number);
    });
    const client = await net.connect();
    const big = await rejectionOf(() => client.request(request("svc.blob", "y".repeat(5_000)), { timeoutMs: 2_000 }));
    expect(big).toMatchObject({ code: "FLOTILLA_PAYLOAD_TOO_LARGE", details: { limit: 4096 } });
    // The body fits, the headers push the message past the limit.
    const almost = await rejectionOf(() =>
      client.request(request("svc.blob", "y".repeat(4_050)), { timeoutMs: 2_000 }),
    );
    expect(almost.code).toBe("FLOTILLA_PAYLOAD_TOO_LARGE");
    expect(handled).toBe(0);
    const reply = await rejectionOf(() => client.request(request("svc.blob", 5_000), { timeoutMs: 2_000 }));
    expect(reply).toMatchObject({ code: "FLOTILLA_REPLY_TOO_LARGE", status: "INTERNAL" });
    expect(await client.request(request("svc.blob", 1_000), { timeoutMs: 2_000 })).toHaveLength(1_000);
    const publish = await rejectionOf(() => client.publish(event("src.Big", { blob: "x".repeat(5_000) })));
    expect(publish.code).toBe("FLOTILLA_PAYLOAD_TOO_LARGE");
  });

  it("fails to connect with UNAVAILABLE when no server listens", async () => {
    const port = await freePort();
    const transport = new NatsTransport({ servers: `127.0.0.1:${port}`, connectTimeoutMs: 1_000 });
    const err = await rejectionOf(() => transport.connect());
    expect(err).toMatchObject({ status: "UNAVAILABLE" });
    expect(String(err.message)).toContain(String(port));
    expect(await rejectionOf(() => transport.request(request("svc.x", {}), { timeoutMs: 100 }))).toMatchObject({
      status: "UNAVAILABLE",
    });
  });
});

function withTimeout() {
  const h = natsHeaders();
  h.set("flotilla-timeout-ms", "2000");
  return h;
}
