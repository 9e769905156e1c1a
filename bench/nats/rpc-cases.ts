/**
 * @module The peers of the distributed RPC benchmark. Each has a serving side and a calling side, run
 * in separate processes with a connection each to the same nats-server; the action is the same small
 * validated echo as in the in-process benchmark.
 */

import { randomUUID } from "node:crypto";
import { action, createHost, createLogger, defineContract, defineService } from "@flotilla/core";
import { natsTransport } from "@flotilla/nats";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { ServiceBroker } from "moleculer";
import { z } from "zod";

export const RPC_IMPLS = ["raw", "raw-traces", "flotilla", "moleculer"] as const;
/** Not run by default: raw NATS with the four headers a Flotilla request carries, to see what they cost. */
export const RPC_EXTRA_IMPLS = ["raw-headers"] as const;
export type RpcImpl = (typeof RPC_IMPLS)[number] | (typeof RPC_EXTRA_IMPLS)[number];

export interface RpcServer {
  /** Requests the server has answered. */
  handled(): number;
  close(): Promise<void>;
}

export interface RpcClient {
  call(): Promise<unknown>;
  close(): Promise<void>;
}

export const INPUT = { id: 42, name: "kettle" };
const RAW_SUBJECT = "bench.echo";
const TIMEOUT_MS = 30_000;

export const bench = defineContract({
  service: "bench",
  actions: {
    echo: action({
      input: z.object({ id: z.number().int(), name: z.string().max(64) }),
      output: z.object({ id: z.number(), name: z.string() }),
    }),
  },
});

export function startServer(impl: RpcImpl, url: string): Promise<RpcServer> {
  switch (impl) {
    case "raw":
    case "raw-traces":
      return rawServer(url, false);
    case "raw-headers":
      return rawServer(url, true);
    case "flotilla":
      return flotillaServer(url);
    case "moleculer":
      return moleculerServer(url);
  }
}

export function startClient(impl: RpcImpl, url: string): Promise<RpcClient> {
  switch (impl) {
    case "raw":
      return rawClient(url, true);
    case "raw-traces":
      return rawClient(url, false);
    case "raw-headers":
      return rawClient(url, true, true);
    case "flotilla":
      return flotillaClient(url);
    case "moleculer":
      return moleculerClient(url);
  }
}

/** The floor: a subscription that echoes the request's bytes, no decoding, no validation. */
async function rawServer(url: string, readHeaders: boolean): Promise<RpcServer> {
  const nc = await connect({ servers: url, name: "bench-raw-server" });
  let handled = 0;
  nc.subscribe(RAW_SUBJECT, {
    callback: (_err, msg) => {
      handled++;
      if (readHeaders) {
        // What a server does at least: decode the headers and read each one.
        let n = 0;
        for (const [key, values] of msg.headers ?? []) n += key.length + (values[0]?.length ?? 0);
        if (n === 0) throw new Error("request without headers");
      }
      msg.respond(msg.data);
    },
  });
  await nc.flush();
  return { handled: () => handled, close: () => nc.drain() };
}

/**
 * `nc.request()` (shared reply subscription, a timer per request). By default nats.js records where
 * each request started (`new Error()` twice per request, for the stack of a later timeout): "raw" turns
 * that off with the documented `noAsyncTraces: true`, "raw-traces" keeps the library's default.
 */
async function rawClient(url: string, noAsyncTraces: boolean, withHeaders = false): Promise<RpcClient> {
  const nc = await connect({ servers: url, name: "bench-raw-client", noAsyncTraces });
  const payload = new TextEncoder().encode(JSON.stringify(INPUT));
  if (!withHeaders) {
    return { call: () => nc.request(RAW_SUBJECT, payload, { timeout: TIMEOUT_MS }), close: () => nc.drain() };
  }
  // The headers Flotilla's client sends with each request (host.ts send(), rpc-client.ts), made per call.
  const traceId = randomUUID().replaceAll("-", "");
  const clientId = `bench-${randomUUID().slice(0, 6)}`;
  let seq = 0;
  return {
    call() {
      const h = natsHeaders();
      h.set("traceparent", `00-${traceId}-${randomUUID().replaceAll("-", "").slice(0, 16)}-01`);
      h.set("flotilla-correlation-id", traceId);
      h.set("flotilla-timeout-ms", String(TIMEOUT_MS));
      h.set("flotilla-request-id", `${clientId}.${++seq}`);
      return nc.request(RAW_SUBJECT, payload, { timeout: TIMEOUT_MS, headers: h });
    },
    close: () => nc.drain(),
  };
}

async function flotillaServer(url: string): Promise<RpcServer> {
  let handled = 0;
  const service = defineService(bench, {
    actions: {
      echo: (input) => {
        handled++;
        return input;
      },
    },
  });
  const host = createHost({
    services: [service],
    transport: url,
    transports: { nats: natsTransport },
    logger: createLogger({ level: "silent" }),
  });
  await host.start();
  return { handled: () => handled, close: () => host.stop() };
}

async function flotillaClient(url: string): Promise<RpcClient> {
  const host = createHost({
    transport: url,
    transports: { nats: natsTransport },
    logger: createLogger({ level: "silent" }),
  });
  await host.start();
  // One long-lived context, as a handler making many calls has (the same as the in-process benchmark).
  const ctx = host.context({ timeoutMs: 24 * 3600_000 });
  return { call: () => ctx.call(bench.echo, INPUT, { timeoutMs: TIMEOUT_MS }), close: () => host.stop() };
}

function broker(nodeID: string, url: string): ServiceBroker {
  return new ServiceBroker({
    nodeID,
    logger: false,
    transporter: url,
    tracing: { enabled: false },
    metrics: { enabled: false },
  });
}

async function moleculerServer(url: string): Promise<RpcServer> {
  let handled = 0;
  const b = broker("bench-server", url);
  b.createService({
    name: "bench",
    actions: {
      echo: {
        params: { id: { type: "number", integer: true }, name: { type: "string", max: 64 } },
        handler: (ctx: { params: unknown }) => {
          handled++;
          return ctx.params;
        },
      },
    },
  });
  await b.start();
  return { handled: () => handled, close: () => b.stop() };
}

async function moleculerClient(url: string): Promise<RpcClient> {
  const b = broker("bench-client", url);
  await b.start();
  await b.waitForServices(["bench"], 30_000);
  return { call: () => b.call("bench.echo", INPUT, { timeout: TIMEOUT_MS }), close: () => b.stop() };
}
