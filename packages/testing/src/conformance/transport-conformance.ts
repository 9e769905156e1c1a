/** @module The transport conformance suite: every transport must pass it unchanged. */
import { randomUUID } from "node:crypto";
import { createHost, type DeadLetter, type Host, type HostOptions, type Transport } from "@flotilla/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejectionOf, sleep, waitFor } from "../wait-for.js";
import { echo, echoService, listenerService, newProbe, relayService } from "./fixtures.js";

/** A network of participants: each `transport()` is what one more process would connect with. */
export interface TransportNetwork {
  /** A new, connected transport on this network (for memory: the shared in-process instance). */
  transport(): Promise<Transport>;
  /** Dead letters recorded for a consumer group, for transports that keep them. */
  deadLetters(group: string): Promise<DeadLetter[]>;
  teardown(): Promise<void>;
}

export interface TransportTarget {
  name: string;
  /** Payload limit the network enforces, if any (the suite sends one payload past it). */
  maxPayloadBytes?: number;
  setup(): Promise<TransportNetwork>;
}

export function transportConformance(target: TransportTarget): void {
  describe(`transport conformance: ${target.name}`, () => {
    let network: TransportNetwork;
    const hosts: Host[] = [];

    beforeEach(async () => {
      network = await target.setup();
    });
    afterEach(async () => {
      await Promise.all(hosts.splice(0).map((h) => h.stop()));
      await network.teardown();
    });

    async function host(options: HostOptions): Promise<Host> {
      const h = createHost({ ...options, transport: await network.transport(), validateOutput: true });
      hosts.push(h);
      await h.start();
      return h;
    }

    describe("request/reply", () => {
      it("returns the output and validates the input with the failing fields", async () => {
        const h = await host({ services: [echoService(newProbe())] });
        expect(await h.call(echo.echo, { text: "hi" })).toMatchObject({ text: "hi" });
        const err = await rejectionOf(() => h.call(echo.echo, { text: "" }));
        expect(err.code).toBe("INVALID_ARGUMENT");
        expect((err.details as { issues: Array<{ path: string }> }).issues[0]?.path).toBe("text");
      });

      it("carries domain errors intact: code, status, details, cause chain", async () => {
        const h = await host({ services: [echoService(newProbe())] });
        const domain = await rejectionOf(() => h.call(echo.fail, { kind: "domain" }));
        expect(domain).toMatchObject({ code: "ECHO_REFUSED", status: "FAILED_PRECONDITION", retryable: false });
        expect(domain.details).toEqual({ reason: "test" });
        const plain = await rejectionOf(() => h.call(echo.fail, { kind: "plain" }));
        expect(plain).toMatchObject({ code: "INTERNAL", message: "boom", retryable: false });
        const nested = await rejectionOf(() => h.call(echo.fail, { kind: "nested" }));
        expect(nested).toMatchObject({ code: "UNAVAILABLE", retryable: true });
        expect(nested.cause).toMatchObject({ code: "NOT_FOUND", message: "inner" });
      });

      it("fails fast with UNAVAILABLE when no instance serves the action", async () => {
        const h = await host({});
        const err = await rejectionOf(() => h.call(echo.echo, { text: "x" }, { timeoutMs: 2_000 }));
        expect(err.status).toBe("UNAVAILABLE");
      });

      it("spreads calls over the instances of a service and can address one instance", async () => {
        const a = await host({ services: [echoService(newProbe())] });
        await host({ services: [echoService(newProbe())] });
        const seen = new Set<string>();
        for (let i = 0; i < 40; i++) seen.add((await a.call(echo.echo, { text: "x" })).instance);
        expect(seen.size).toBe(2);
        const target = [...seen][1] as string;
        for (let i = 0; i < 5; i++) {
          expect((await a.call(echo.echo, { text: "x" }, { instance: target })).instance).toBe(target);
        }
      });

      if (target.maxPayloadBytes !== undefined) {
        const limit = target.maxPayloadBytes;
        it("refuses payloads over the limit with a clear error", async () => {
          const h = await host({ services: [echoService(newProbe())] });
          const err = await rejectionOf(() => h.call(echo.echo, { text: "y".repeat(limit + 1) }));
          expect(err.code).toBe("FLOTILLA_PAYLOAD_TOO_LARGE");
          const reply = await rejectionOf(() => h.call(echo.blob, { size: limit + 1 }));
          expect(reply).toMatchObject({ code: "FLOTILLA_REPLY_TOO_LARGE", status: "INTERNAL" });
        });
      }
    });

    describe("timeouts and deadlines", () => {
      it("times out a slow call with DEADLINE_EXCEEDED before the handler finishes", async () => {
        const probe = newProbe();
        const h = await host({ services: [echoService(probe)] });
        const err = await rejectionOf(() => h.call(echo.sleep, { ms: 1_000 }, { timeoutMs: 50 }));
        expect(err.code).toBe("DEADLINE_EXCEEDED");
        expect(probe.finished).toBe(0);
      });

      it("propagates a shrinking deadline through nested calls", async () => {
        const probe = newProbe();
        const h = await host({ services: [echoService(newProbe()), relayService(probe)] });
        const out = await h.call(echo.relay, { ms: 0 }, { timeoutMs: 500 });
        expect(out.remainingMs).toBeGreaterThan(0);
        expect(out.remainingMs).toBeLessThanOrEqual(500);
      });

      it("carries the trace, the correlation id and W3C baggage to the callee and to event handlers", async () => {
        const probe = newProbe();
        const h = await host({ services: [echoService(newProbe()), relayService(probe), listenerService(probe)] });
        const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        const ctx = h.context({
          traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
          correlationId: "order-7",
          baggage: "tenant=acme,region=eu%20west",
        });
        await ctx.call(echo.relay, { ms: 0 });
        await ctx.call(echo.publish, { seq: 1, tag: randomUUID() });
        await waitFor(() => probe.origins.some((o) => o.where === "ticks"));
        const origin = { traceId, correlationId: "order-7", baggage: "tenant=acme,region=eu%20west" };
        expect(probe.origins.find((o) => o.where === "forward")).toMatchObject(origin);
        expect(probe.origins.find((o) => o.where === "ticks")).toMatchObject(origin);
        // Baggage past W3C's 8192 bytes is dropped whole at the edge, never cut.
        expect(h.context({ baggage: `k=${"v".repeat(8200)}` }).baggage).toBeUndefined();
      });

      it("fails fast without reaching the callee once the deadline has passed", async () => {
        const probe = newProbe();
        const h = await host({ services: [echoService(newProbe()), relayService(probe)] });
        const ctx = h.context({ timeoutMs: 20 });
        await sleep(40);
        const err = await rejectionOf(() => ctx.call(echo.relay, { ms: 0 }));
        expect(err.code).toBe("DEADLINE_EXCEEDED");
        expect(probe.finished + probe.running).toBe(0);
      });
    });

    describe("back-pressure", () => {
      it("never runs more than maxInFlight requests at once and refuses past the queue", async () => {
        const probe = newProbe();
        const h = await host({ services: [echoService(probe, { maxInFlight: 2, maxQueued: 2 })] });
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, () => h.call(echo.sleep, { ms: 50 }, { timeoutMs: 5_000 })),
        );
        const refused = results.filter((r) => r.status === "rejected");
        expect(probe.maxRunning).toBeLessThanOrEqual(2);
        expect(refused.length).toBeGreaterThan(0);
        for (const r of refused) {
          expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "FLOTILLA_OVERLOADED", retryable: true });
        }
        expect(results.filter((r) => r.status === "fulfilled").length).toBeGreaterThanOrEqual(4);
      });
    });

    describe("events", () => {
      const tag = () => randomUUID().slice(0, 8);

      async function publish(h: Host, count: number, t: string): Promise<void> {
        for (let seq = 0; seq < count; seq++) await h.call(echo.publish, { seq, tag: t });
      }

      it("delivers each event to one instance per consumer group", async () => {
        const probe = newProbe();
        const slow = async () => sleep(2);
        const a = await host({ services: [echoService(newProbe()), listenerService(probe, { behaviour: slow })] });
        await host({ services: [listenerService(probe, { behaviour: slow })] });
        const t = tag();
        await publish(a, 60, t);
        await waitFor(() => probe.handled.length >= 60, { what: "60 events" });
        await sleep(100);
        const seqs = probe.handled.map((e) => e.seq).sort((x, y) => x - y);
        expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i));
        expect(new Set(probe.handled.map((e) => e.instance)).size).toBe(2);
      });

      it("delivers every event to every broadcast subscriber", async () => {
        const probe = newProbe();
        const a = await host({ services: [echoService(newProbe()), listenerService(probe, { broadcast: true })] });
        await host({ services: [listenerService(probe, { broadcast: true })] });
        await publish(a, 20, tag());
        await waitFor(() => probe.handled.length >= 40, { what: "40 deliveries" });
        const byInstance = new Map<string, number>();
        for (const e of probe.handled) byInstance.set(e.instance, (byInstance.get(e.instance) ?? 0) + 1);
        expect([...byInstance.values()]).toEqual([20, 20]);
      });

      it("keeps publish order per publisher for a subscriber with maxInFlight 1", async () => {
        const probe = newProbe();
        const h = await host({ services: [echoService(newProbe()), listenerService(probe, { maxInFlight: 1 })] });
        await publish(h, 50, tag());
        await waitFor(() => probe.handled.length >= 50, { what: "50 events" });
        expect(probe.handled.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      });

      it("never runs more handlers at once than the subscription's maxInFlight", async () => {
        const probe = newProbe();
        const behaviour = async () => sleep(10);
        const h = await host({
          services: [echoService(newProbe()), listenerService(probe, { maxInFlight: 3, behaviour })],
        });
        await publish(h, 30, tag());
        await waitFor(() => probe.handled.length >= 30, { what: "30 events" });
        expect(probe.maxRunning).toBeLessThanOrEqual(3);
        expect(probe.maxRunning).toBeGreaterThan(1);
      });

      it("redelivers a failed event and dead-letters it after maxDeliveries", async () => {
        const probe = newProbe();
        const behaviour = async (data: { seq: number }, attempt: number) => {
          if (data.seq === 0 && attempt < 3) throw new Error(`flaky ${attempt}`);
          if (data.seq === 1) throw new Error("always fails");
        };
        const h = await host({
          services: [echoService(newProbe()), listenerService(probe, { maxDeliveries: 3, behaviour })],
        });
        await publish(h, 3, tag());
        await waitFor(async () => (await network.deadLetters("listener.ticks")).length >= 1, {
          what: "a dead letter",
          timeoutMs: 10_000,
        });
        await waitFor(() => probe.handled.length >= 2, { what: "the other events" });
        expect(probe.handled.find((e) => e.seq === 0)?.attempt).toBe(3);
        expect(probe.handled.find((e) => e.seq === 2)?.attempt).toBe(1);
        const [letter] = await network.deadLetters("listener.ticks");
        expect(letter).toMatchObject({
          attempts: 3,
          group: "listener.ticks",
          event: { data: { seq: 1 } },
          error: { code: "INTERNAL", message: "always fails" },
        });
      });

      it("dead-letters an event whose data fails the schema at once, without retries", async () => {
        const probe = newProbe();
        const h = await host({ services: [listenerService(probe, { maxDeliveries: 5 })] });
        await h.transport.publish({
          id: randomUUID(),
          type: echo.Ticked.type,
          source: "echo",
          version: 1,
          time: new Date().toISOString(),
          headers: {},
          data: { seq: "not a number" },
        });
        await waitFor(async () => (await network.deadLetters("listener.ticks")).length >= 1, { what: "a dead letter" });
        const [letter] = await network.deadLetters("listener.ticks");
        expect(letter).toMatchObject({ attempts: 1, error: { code: "INVALID_ARGUMENT" } });
        expect(probe.handled).toHaveLength(0);
      });

      it("keeps events for a consumer group while none of its instances runs", async () => {
        const probe = newProbe();
        const producer = await host({ services: [echoService(newProbe())] });
        const consumer = await host({ services: [listenerService(probe)] });
        await consumer.stop();
        await publish(producer, 5, tag());
        await host({ services: [listenerService(probe)] });
        await waitFor(() => probe.handled.length >= 5, { what: "events kept while down" });
        expect(probe.handled.map((e) => e.seq).sort()).toEqual([0, 1, 2, 3, 4]);
      });
    });

    describe("shutdown", () => {
      it("finishes in-flight requests and events, then refuses new work", async () => {
        const probe = newProbe();
        const listenerProbe = newProbe();
        const client = await host({ services: [echoService(newProbe())] });
        const server = await host({
          // Each runs 1 s, so the two overlap long enough to be seen together even on a loaded machine.
          services: [relayService(probe), listenerService(listenerProbe, { behaviour: async () => sleep(1_000) })],
        });
        const inFlight = client.call(echo.relay, { ms: 1_000 }, { timeoutMs: 5_000 });
        await client.call(echo.publish, { seq: 0, tag: "drain" });
        await waitFor(() => probe.running === 1 && listenerProbe.running === 1, { what: "work in flight" });
        const stopping = server.stop();
        await expect(inFlight).resolves.toMatchObject({ remainingMs: expect.any(Number) });
        await stopping;
        expect(listenerProbe.handled).toHaveLength(1);
        const after = await rejectionOf(() => client.call(echo.relay, { ms: 0 }, { timeoutMs: 2_000 }));
        expect(after.status).toBe("UNAVAILABLE");
      });
    });
  });
}
