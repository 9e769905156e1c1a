/** @module Runs the shared registry conformance suite against KvRegistry on a real nats-server. */
import { randomUUID } from "node:crypto";
import type { Registry } from "@flotilla/core";
import { type NatsServerHandle, registryConformance, startNatsServer } from "@flotilla/testing";
import { afterAll, beforeAll } from "vitest";
import { KvRegistry } from "../src/index.js";

const timing = { heartbeatMs: 100, ttlMs: 300 };
let server: NatsServerHandle;

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(() => server?.stop());

registryConformance({
  name: "nats kv",
  ...timing,
  async setup() {
    // One bucket per test on a shared server; each view is its own connection, like another process.
    const bucket = `reg_${randomUUID().slice(0, 8)}`;
    return {
      async registry(): Promise<Registry> {
        const registry = new KvRegistry({ servers: `127.0.0.1:${server.port}`, bucket, ...timing });
        await registry.connect();
        return registry;
      },
      teardown: async () => undefined,
    };
  },
});
