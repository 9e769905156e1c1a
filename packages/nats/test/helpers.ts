/** @module Test helpers: a real nats-server per test file and transports connected to it. */
import { randomUUID } from "node:crypto";
import { type EventEnvelope, newTraceContext, type RequestEnvelope } from "@flotilla/core";
import { type NatsServerHandle, type NatsServerOptions, startNatsServer } from "@flotilla/testing";
import { NatsTransport, type NatsTransportOptions } from "../src/index.js";

export interface Network {
  server: NatsServerHandle;
  /** A new connected transport, like one more process. */
  connect(options?: Partial<NatsTransportOptions>): Promise<NatsTransport>;
  close(): Promise<void>;
}

export async function network(serverOptions: NatsServerOptions = {}): Promise<Network> {
  const server = await startNatsServer(serverOptions);
  const transports: NatsTransport[] = [];
  return {
    server,
    async connect(options = {}) {
      const transport = new NatsTransport({ servers: `127.0.0.1:${server.port}`, ...options });
      await transport.connect();
      transports.push(transport);
      return transport;
    },
    async close() {
      await Promise.all(transports.map((t) => t.close()));
      await server.stop();
    },
  };
}

let seq = 0;

export function request(action: string, payload: unknown, extra: Partial<RequestEnvelope> = {}): RequestEnvelope {
  const service = action.slice(0, action.indexOf("."));
  const meta = {
    trace: newTraceContext(),
    correlationId: `test.${++seq}`,
    caller: undefined,
    deadline: Date.now() + 2_000,
  };
  return { service, action, meta, payload, ...extra };
}

export function event(type: string, data: unknown, extra: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    id: randomUUID(),
    type,
    source: type.slice(0, type.indexOf(".")),
    version: 1,
    time: new Date().toISOString(),
    headers: { "flotilla-correlation-id": "test" },
    data,
    ...extra,
  };
}

export const subscribeDefaults = {
  instance: "sink-1",
  maxInFlight: 4,
  maxDeliveries: 3,
  backoffMs: () => 50,
};

export const serveDefaults = { maxInFlight: 16, maxQueued: 64 };
