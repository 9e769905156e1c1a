/** @module The nats-server a distributed benchmark run starts (JetStream on, free loopback port) and stops. */
import { execFileSync } from "node:child_process";
import { type NatsServerHandle, resolveNatsServerBinary, startNatsServer } from "@flotilla/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

export interface BenchServer {
  readonly handle: NatsServerHandle;
  readonly url: string;
  /** `nats-server --version`, e.g. "nats-server: v2.9.10". */
  readonly version: string;
  /** Deletes every stream (and so every consumer), so that each case starts from an empty server. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchServer(): Promise<BenchServer> {
  const binary = resolveNatsServerBinary();
  const version = execFileSync(binary, ["--version"], { encoding: "utf8" }).trim();
  const handle = await startNatsServer({ jetstream: true });
  return {
    handle,
    url: handle.url,
    version,
    async reset() {
      const nc = await connect({ servers: handle.url, name: "bench-reset" });
      try {
        const jsm = await jetstreamManager(nc);
        for await (const name of jsm.streams.names()) await jsm.streams.delete(name);
      } finally {
        await nc.close();
      }
    },
    stop: () => handle.stop(),
  };
}
