/** @module The registry conformance suite: every registry must pass it unchanged. */
import { randomUUID } from "node:crypto";
import type { InstanceInfo, Registry } from "@flotilla/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sleep, waitFor } from "../wait-for.js";

/** A shared backend: each `registry()` is what one more process would connect with. */
export interface RegistryNetwork {
  /** A new registry view on this backend, using the target's heartbeat and TTL. */
  registry(): Promise<Registry>;
  teardown(): Promise<void>;
}

export interface RegistryTarget {
  name: string;
  /** The heartbeat and TTL every view of the network uses (keep them short: the suite waits on them). */
  heartbeatMs: number;
  ttlMs: number;
  /** Extra time a change may take to reach another view (propagation over the network); 250 ms by default. */
  slackMs?: number;
  setup(): Promise<RegistryNetwork>;
}

export function registryConformance(target: RegistryTarget): void {
  const { heartbeatMs, ttlMs } = target;
  const slack = target.slackMs ?? 250;

  describe(`registry conformance: ${target.name}`, () => {
    let network: RegistryNetwork;
    const views: Registry[] = [];
    let service: string;

    beforeEach(async () => {
      network = await target.setup();
      service = `svc-${randomUUID().slice(0, 8)}`;
    });
    afterEach(async () => {
      await Promise.all(views.splice(0).map((v) => v.close()));
      await network.teardown();
    });

    async function view(): Promise<Registry> {
      const v = await network.registry();
      views.push(v);
      return v;
    }

    const info = (instance: string, patch: Partial<InstanceInfo> = {}): InstanceInfo => ({
      service,
      instance: `${service}-${instance}`,
      version: "1.2.3",
      host: "test-host",
      pid: 4242,
      actions: [`${service}.get`, `${service}.put`],
      events: ["other.Happened"],
      startedAt: new Date().toISOString(),
      ready: true,
      load: { inFlight: 0 },
      endpoint: "http://127.0.0.1:9",
      ...patch,
    });

    const ids = (v: Registry, s = service) => v.instances(s).map((i) => i.instance);
    const listed = (v: Registry, id: string) => ids(v).includes(`${service}-${id}`);
    const within = (ms: number, what: string) => ({ timeoutMs: ms, what });

    it("lists what another participant registered, with every field intact", async () => {
      const [a, b] = [await view(), await view()];
      const sent = info("a");
      await a.register(sent);
      await a.register(info("b", { ready: false }));
      await waitFor(() => ids(b).length === 2, within(slack + heartbeatMs, "both instances"));
      expect(b.instances(service).find((i) => i.instance === sent.instance)).toEqual(sent);
      expect(b.instances(service).find((i) => i.instance === `${service}-b`)?.ready).toBe(false);
      expect(b.instances(`${service}-other`)).toEqual([]);
    });

    it("shows an update (readiness, load) after the next heartbeat", async () => {
      const [a, b] = [await view(), await view()];
      const registration = await a.register(info("a"));
      await waitFor(() => listed(b, "a"), within(slack + heartbeatMs, "registration"));
      registration.update({ ready: false, load: { inFlight: 7 } });
      await waitFor(
        () => b.instances(service)[0]?.ready === false && b.instances(service)[0]?.load.inFlight === 7,
        within(2 * heartbeatMs + slack, "the update"),
      );
    });

    it("keeps a heartbeating instance past its TTL", async () => {
      const [a, b] = [await view(), await view()];
      await a.register(info("a"));
      await sleep(2 * ttlMs);
      expect(listed(b, "a")).toBe(true);
    });

    it("removes a deregistered instance at once, not at the TTL", async () => {
      const [a, b] = [await view(), await view()];
      const registration = await a.register(info("a"));
      await a.register(info("b"));
      await waitFor(() => ids(b).length === 2, within(slack + heartbeatMs, "registrations"));
      await registration.deregister();
      await waitFor(() => !listed(b, "a"), within(ttlMs / 2, "deregistration before the TTL"));
      expect(listed(a, "a")).toBe(false);
      expect(listed(b, "b")).toBe(true);
    });

    it("drops an instance whose heartbeats stopped (closed without deregistering) within ttl + one heartbeat", async () => {
      const [observer, crashing, healthy] = [await view(), await view(), await view()];
      await crashing.register(info("dead"));
      await healthy.register(info("alive"));
      await waitFor(() => ids(observer).length === 2, within(slack + heartbeatMs, "registrations"));
      await crashing.close();
      // Closing is a crash, not a goodbye: the entry stays until the TTL notices.
      expect(listed(observer, "dead")).toBe(true);
      await waitFor(
        () => !listed(observer, "dead"),
        within(ttlMs + heartbeatMs + slack, "the dead instance to expire"),
      );
      expect(listed(observer, "alive")).toBe(true);
    });

    it("notifies watchers of registrations, updates and removals, until unsubscribed", async () => {
      const [a, b] = [await view(), await view()];
      const seen: string[] = [];
      const unsubscribe = b.watch((s) => seen.push(s));
      const registration = await a.register(info("a"));
      await waitFor(() => seen.includes(service), within(slack + heartbeatMs, "a registration notice"));
      seen.length = 0;
      registration.update({ load: { inFlight: 3 } });
      await waitFor(() => seen.includes(service), within(2 * heartbeatMs + slack, "an update notice"));
      seen.length = 0;
      await registration.deregister();
      await waitFor(() => seen.includes(service), within(ttlMs / 2, "a removal notice"));
      unsubscribe();
      seen.length = 0;
      await a.register(info("c"));
      await waitFor(() => listed(a, "c") && listed(b, "c"), within(slack + heartbeatMs, "registration"));
      await sleep(heartbeatMs);
      expect(seen).toEqual([]);
    });

    it("stops calling a closed view's watchers", async () => {
      const [a, b] = [await view(), await view()];
      const seen: string[] = [];
      b.watch((s) => seen.push(s));
      await b.close();
      await a.register(info("a"));
      await sleep(heartbeatMs + slack);
      expect(seen).toEqual([]);
    });
  });
}
