/** @module KvRegistry beyond the suite: URL factory, bucket settings, restarts, a SIGKILLed process. */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type InstanceInfo, resolveRegistry } from "@flotilla/core";
import { type NatsServerHandle, startNatsServer, waitFor } from "@flotilla/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KvRegistry, natsRegistry } from "../src/index.js";

const heartbeatMs = 100;
const ttlMs = 300;
let server: NatsServerHandle;
const views: KvRegistry[] = [];

beforeAll(async () => {
  server = await startNatsServer();
});
afterEach(async () => {
  await Promise.all(views.splice(0).map((v) => v.close()));
});
afterAll(() => server?.stop());

const servers = () => `127.0.0.1:${server.port}`;
function view(bucket: string, options: Partial<ConstructorParameters<typeof KvRegistry>[0]> = {}): KvRegistry {
  const registry = new KvRegistry({ servers: servers(), bucket, heartbeatMs, ttlMs, reconnectWaitMs: 100, ...options });
  views.push(registry);
  return registry;
}
const info = (service: string, instance: string): InstanceInfo => ({
  service,
  instance,
  version: "1.0.0",
  host: "h",
  pid: 1,
  actions: [`${service}.get`],
  events: [],
  startedAt: new Date().toISOString(),
  ready: true,
  load: { inFlight: 0 },
});
const ids = (r: KvRegistry, service: string) => r.instances(service).map((i) => i.instance);
const newBucket = () => `reg_${randomUUID().slice(0, 8)}`;

describe("nats kv registry", () => {
  it("resolves from a nats:// URL and refuses unknown options and bad timing", async () => {
    const url = `${server.url}?bucket=shop_registry&heartbeatMs=250&ttlMs=900&name=reg-test`;
    const registry = resolveRegistry(url, { nats: natsRegistry }) as KvRegistry;
    views.push(registry);
    expect([registry.name, registry.bucket, registry.heartbeatMs, registry.ttlMs]).toEqual([
      "nats",
      "shop_registry",
      250,
      900,
    ]);
    await registry.connect();
    const bad = (query: string) => () => natsRegistry(new URL(`${server.url}?${query}`));
    for (const query of ["publishTimeoutMs=5", "heartbeatMs=x", "heartbeatMs=500&ttlMs=500", "bucket=a.b"]) {
      expect(bad(query)).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
    }
    expect((natsRegistry(new URL(server.url)) as KvRegistry).bucket).toBe("flotilla_registry");
  });

  it("stores <service>.<instance> keys with a heartbeat time in a bucket whose max_age is the TTL", async () => {
    const bucket = newBucket();
    const registry = view(bucket);
    await registry.register(info("box", "box-1"));
    const nc = await connect({ servers: servers() });
    try {
      const stream = await (await jetstreamManager(nc)).streams.info(`KV_${bucket}`);
      expect(stream.config).toMatchObject({ max_age: ttlMs * 1_000_000, max_msgs_per_subject: 1, storage: "file" });
      const kv = await new Kvm(nc).open(bucket);
      const stored = (await kv.get("box.box-1"))?.json<Record<string, unknown>>();
      expect(stored).toMatchObject({ service: "box", instance: "box-1", actions: ["box.get"] });
      expect(Date.parse(String(stored?.heartbeatAt))).toBeGreaterThan(Date.now() - 10 * heartbeatMs);
      // A value that is not an instance is ignored, not listed and not fatal.
      await kv.put("box.junk", "not json");
      await kv.put("box.box-2", JSON.stringify({ service: "box", instance: "other" }));
      const observer = view(bucket);
      await observer.connect();
      await waitFor(() => ids(observer, "box").length === 1, { timeoutMs: 2_000 });
      // A later valid key: the watcher applies changes in order, so the two above were dealt with before it.
      await kv.put("box.box-3", JSON.stringify({ ...stored, instance: "box-3" }));
      await waitFor(() => ids(observer, "box").includes("box-3"), { timeoutMs: 2_000, what: "the later key" });
      expect([...ids(observer, "box")].sort()).toEqual(["box-1", "box-3"]);
    } finally {
      await nc.close();
    }
  });

  it("refuses a bucket that would expire keys between heartbeats", async () => {
    const bucket = newBucket();
    await view(bucket, { heartbeatMs: 50, ttlMs: 120 }).connect();
    await expect(view(bucket, { heartbeatMs: 200, ttlMs: 600 }).connect()).rejects.toMatchObject({
      code: "FLOTILLA_CONFIG",
    });
  });

  it("does not let a stale registration delete its successor with the same instance id", async () => {
    const bucket = newBucket();
    const [old, successor, observer, later] = [view(bucket), view(bucket), view(bucket), view(bucket)];
    const first = await old.register(info("box", "box-1"));
    await successor.register({ ...info("box", "box-1"), pid: 2 });
    await waitFor(() => observer.instances("box")[0]?.pid === 2, { timeoutMs: 2_000, what: "the successor" });
    await first.deregister();
    // A later registration: the observer sees changes in order, so a delete of box-1 would come before it.
    await later.register(info("box", "box-9"));
    await waitFor(() => ids(observer, "box").includes("box-9"), { timeoutMs: 2_000, what: "the later instance" });
    expect(observer.instances("box").find((i) => i.instance === "box-1")?.pid).toBe(2);
  });

  it("resumes watching and heartbeating after the server restarts", async () => {
    const own = await startNatsServer();
    try {
      const bucket = newBucket();
      const at = (r?: Partial<ConstructorParameters<typeof KvRegistry>[0]>) =>
        view(bucket, { servers: `127.0.0.1:${own.port}`, ...r });
      const [a, b, observer] = [at(), at(), at()];
      await a.register(info("box", "box-a"));
      const gone = await b.register(info("box", "box-gone"));
      await waitFor(() => ids(observer, "box").length === 2, { timeoutMs: 2_000 });
      await own.restart({ downtimeMs: 2 * ttlMs });
      // Changes made after the restart reach the observer (its watcher was restarted on reconnect).
      const registered = () =>
        b.register(info("box", "box-b")).then(
          () => true,
          () => false,
        );
      await waitFor(registered, { timeoutMs: 10_000, intervalMs: 50 });
      await gone.deregister();
      await waitFor(() => ids(observer, "box").join() === "box-a,box-b", {
        timeoutMs: 10_000,
        what: "the observer to see changes made after the restart",
      });
      // The outage did not count against anyone's TTL, and heartbeats resumed.
      await new Promise((r) => setTimeout(r, 2 * ttlMs));
      expect(ids(observer, "box")).toEqual(["box-a", "box-b"]);
    } finally {
      await Promise.all(views.splice(0).map((v) => v.close()));
      await own.stop();
    }
  });

  it("recreates the bucket and its watcher when the server comes back without its data", async () => {
    let own = await startNatsServer();
    try {
      const bucket = newBucket();
      const at = () => view(bucket, { servers: `127.0.0.1:${own.port}` });
      const [a, observer] = [at(), at()];
      await a.register(info("box", "box-a"));
      await waitFor(() => ids(observer, "box").length === 1, { timeoutMs: 2_000 });
      await own.stop();
      own = await startNatsServer({ port: own.port });
      const nc = await connect({ servers: `127.0.0.1:${own.port}` });
      try {
        // The registry recreates the bucket with its settings. (Polling it with STREAM.MSG.GET meanwhile
        // would crash nats-server 2.9.10: a nil pointer in jsMsgGetRequest while the stream is created.)
        const jsm = await jetstreamManager(nc);
        const bucketInfo = () => jsm.streams.info(`KV_${bucket}`).catch(() => undefined);
        await waitFor(async () => (await bucketInfo())?.state.messages === 1, { timeoutMs: 3_000 });
        expect((await bucketInfo())?.config.max_age).toBe(ttlMs * 1_000_000);
        const kv = await new Kvm(nc).open(bucket);
        await kv.put("box.box-new", JSON.stringify(info("box", "box-new")));
        await waitFor(() => ids(observer, "box").includes("box-new"), { timeoutMs: 3_000, what: "a new watcher" });
        expect(ids(observer, "box")).toContain("box-a");
      } finally {
        await nc.close();
      }
    } finally {
      await Promise.all(views.splice(0).map((v) => v.close()));
      await own.stop();
    }
  });

  it("drops a SIGKILLed process's instance within ttl + one heartbeat, and the server expires its key", async () => {
    const bucket = newBucket();
    const observer = view(bucket);
    await observer.connect();
    const script = fileURLToPath(new URL("./fixtures/registry-child.ts", import.meta.url));
    const args = [servers(), bucket, "box", "box-child", String(heartbeatMs), String(ttlMs)];
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => d.toString().includes("registered") && resolve());
        child.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
      });
      await waitFor(() => ids(observer, "box").includes("box-child"), { timeoutMs: 2_000 });
      child.kill("SIGKILL");
      const killedAt = Date.now();
      await waitFor(() => !ids(observer, "box").includes("box-child"), {
        timeoutMs: ttlMs + heartbeatMs + 250,
        what: "the killed instance to disappear",
      });
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(ttlMs - heartbeatMs);
      const nc = await connect({ servers: servers() });
      const kv = await new Kvm(nc).open(bucket);
      await waitFor(async () => (await kv.get("box.box-child")) === null, { timeoutMs: 2 * ttlMs, intervalMs: 50 });
      await nc.close();
    } finally {
      child.kill("SIGKILL");
    }
  });
});
