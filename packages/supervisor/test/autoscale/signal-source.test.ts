import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { ResolvedUnit } from "@flotilla/app";
import type { InstanceInfo, Registration } from "@flotilla/core";
import { KvRegistry, NatsTransport } from "@flotilla/nats";
import { freePort, type NatsServerHandle, sleep, startNatsServer, waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { event } from "../../../nats/test/helpers.js";
import { signalSource } from "../../src/index.js";

function unit(name: string, services: string[]): ResolvedUnit {
  return {
    name,
    services,
    gateway: false,
    instances: 1,
    scaling: { min: 1, max: 4, inFlightPerInstance: 8, lagPerInstance: 100, cpuPercent: 70 },
    resources: { cpu: "250m", memory: "256Mi" },
  };
}

function instance(service: string, pid: number, inFlight: number, ready = true): InstanceInfo {
  return {
    service,
    instance: `${service}-${pid}-${randomUUID().slice(0, 8)}`,
    version: "1.0.0",
    host: hostname(),
    pid,
    actions: [],
    events: [],
    startedAt: new Date().toISOString(),
    ready,
    load: { inFlight },
  };
}

let server: NatsServerHandle;
let natsUrl: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  natsUrl = `nats://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await server?.stop();
});

describe("signalSource: lag as KEDA reads it", () => {
  it("reads pending plus unacknowledged events of the unit's most lagging consumer", async () => {
    const producer = new NatsTransport({ servers: natsUrl });
    const consumer = new NatsTransport({ servers: natsUrl });
    const source = signalSource({ natsUrl });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await Promise.all([producer.connect(), consumer.connect()]);
      const options = { instance: "shipping-1", maxInFlight: 3, maxDeliveries: 5, backoffMs: () => 50 };
      // A member that takes 3 events and never finishes them; the rest stay pending on the server.
      await consumer.subscribe(
        { ...options, types: ["orders.OrderPlaced"], group: "shipping.onOrderPlaced" },
        () => held,
      );
      // Another unit's group on the same stream, fully caught up: not the fulfilment unit's lag.
      await consumer.subscribe(
        { ...options, instance: "catalog-1", types: ["orders.OrderPlaced"], group: "catalog.countSales" },
        async () => undefined,
      );
      // A second group of the unit, on another event type, held too: 4 behind. KEDA has a trigger per
      // consumer and the HPA follows the largest, so the unit's lag is 10, not 14.
      await consumer.subscribe(
        { ...options, instance: "inventory-1", types: ["orders.OrderCancelled"], group: "inventory.onOrderCancelled" },
        () => held,
      );
      for (let seq = 0; seq < 10; seq++) await producer.publish(event("orders.OrderPlaced", { seq }));
      for (let seq = 0; seq < 4; seq++) await producer.publish(event("orders.OrderCancelled", { seq }));

      const fulfilment = unit("fulfilment", ["inventory", "shipping"]);
      await waitFor(async () => (await source.read(unit("inventory", ["inventory"]), [])).lag === 4);
      expect((await source.read(fulfilment, [])).lag).toBe(10);
      const browse = unit("browse", ["catalog"]);
      await waitFor(async () => (await source.read(browse, [])).lag === 0);
      expect((await source.read(browse, [])).failed).toBeUndefined();
      expect((await source.read(fulfilment, [])).lag).toBe(10);
      // A unit that consumes no events has no lag signal at all (rather than a lag of 0 that would scale it down).
      expect((await source.read(unit("notifications", ["notifications"]), [])).lag).toBeUndefined();
    } finally {
      release();
      await consumer.close();
      await producer.close();
      await source.close();
    }
  });
});

describe("signalSource: in-flight calls from the registry", () => {
  it("sums the unit's ready instances, counts processes, and keeps to the pids given", async () => {
    const registry = new KvRegistry({ servers: natsUrl });
    const source = signalSource({ natsUrl });
    const registrations: Registration[] = [];
    try {
      for (const info of [
        instance("catalog", 101, 5),
        instance("reviews", 101, 2), // the same process serves a second service of the unit
        instance("catalog", 102, 4),
        instance("catalog", 103, 50, false), // starting: neither counted nor read
        instance("orders", 104, 30), // another unit
        instance("catalog", 105, 7), // not one of the supervisor's processes
      ]) {
        registrations.push(await registry.register(info));
      }
      const browse = unit("browse", ["catalog", "reviews"]);
      await waitFor(async () => (await source.read(browse, [101, 102, 103, 104])).inFlight === 11);
      const signals = await source.read(browse, [101, 102, 103, 104]);
      expect(signals).toMatchObject({ readyInstances: 2, inFlight: 11 });
      expect(signals.failed).toBeUndefined();
      expect(await source.read(browse, [])).toMatchObject({ readyInstances: 3, inFlight: 18 });

      registrations[0]?.update({ load: { inFlight: 9 } });
      await waitFor(async () => (await source.read(browse, [101, 102])).inFlight === 15);
    } finally {
      await Promise.all(registrations.map((r) => r.deregister()));
      await registry.close();
      await source.close();
    }
  });

  it("reports both NATS signals as failed, without throwing, when NATS cannot be reached", async () => {
    const source = signalSource({ natsUrl: `nats://127.0.0.1:${await freePort()}` });
    try {
      const signals = await source.read(unit("browse", ["catalog"]), []);
      expect(signals.failed).toEqual(["inFlight", "lag"]);
      expect(signals.inFlight).toBeUndefined();
      expect(signals.lag).toBeUndefined();
    } finally {
      await source.close();
    }
  });
});

/** CPU time in ns from /proc/<pid>/schedstat: the scheduler's own count, apart from the stat file read. */
async function schedNanos(pid: number): Promise<number> {
  return Number((await readFile(`/proc/${pid}/schedstat`, "utf8")).split(" ")[0]);
}

describe.runIf(process.platform === "linux")("signalSource: CPU from /proc", () => {
  it("reads a busy process as the scheduler counts it, and a sleeping one near 0, from the second read on", async () => {
    const busy = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
    const idle = spawn("sleep", ["60"], { stdio: "ignore" });
    children.push(busy, idle);
    const pid = busy.pid as number;
    const source = signalSource({ natsUrl });
    const gateway = { ...unit("edge", []), gateway: true };
    try {
      const first = await source.read(gateway, [pid]);
      expect(first.cpuPercent).toBeUndefined(); // no interval yet
      expect(first.readyInstances).toBe(1);
      const [ns0, t0] = [await schedNanos(pid), performance.now()];
      await sleep(1_500);
      const [ns1, t1] = [await schedNanos(pid), performance.now()];
      const read = (await source.read(gateway, [pid])).cpuPercent as number;
      const scheduled = (100 * (ns1 - ns0)) / 1e6 / (t1 - t0);
      // A busy loop gets a core to itself on an idle machine (~100%); on a shared one it gets its share.
      expect(read).toBeGreaterThan(20);
      expect(Math.abs(read - scheduled)).toBeLessThan(10);

      await source.read(gateway, [idle.pid as number]);
      await sleep(1_000);
      expect((await source.read(gateway, [idle.pid as number])).cpuPercent).toBeLessThan(5);

      // One source serves every unit, read at once as the supervisor does: each pid keeps its own last sample.
      const other = { ...unit("browse", []), gateway: true };
      await Promise.all([source.read(gateway, [pid]), source.read(other, [idle.pid as number])]);
      await sleep(500);
      const [mine, theirs] = await Promise.all([source.read(gateway, [pid]), source.read(other, [idle.pid as number])]);
      expect(mine.cpuPercent).toBeGreaterThan(20);
      expect(theirs.cpuPercent).toBeLessThan(5);

      busy.kill("SIGKILL");
      await new Promise((resolve) => busy.once("exit", resolve));
      await source.read(gateway, [pid]);
      expect((await source.read(gateway, [pid])).cpuPercent).toBeUndefined(); // gone
    } finally {
      await source.close();
    }
  });
});
