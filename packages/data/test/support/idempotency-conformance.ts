/** @module Idempotency keys kept by the runtime, run once per engine: same key → same answer, one effect. */
import { createHost, type Host, type Identity } from "@flotilla/core";
import { LightTracer, type SpanRecord, tracing } from "@flotilla/telemetry";
import { afterEach, describe, expect, it } from "vitest";
import type { DatabaseProvider } from "../../src/index.js";
import { ledgerContract, ledgerService } from "./ledger-service.js";

export interface IdempotencyTarget {
  name: string;
  /** A new provider over the target's storage: every provider it returns reaches the same data. */
  provider(): DatabaseProvider;
}

let unique = 0;
const DAY_MS = 24 * 3_600_000;

export function idempotencyConformance(target: IdempotencyTarget): void {
  describe(`idempotency keys: ${target.name}`, () => {
    const hosts: Host[] = [];
    afterEach(async () => {
      await Promise.all(hosts.splice(0).map((h) => h.stop()));
    });

    async function ledger(name = `ledger-${++unique}`, provider = target.provider()) {
      const { service, runs } = ledgerService(name);
      const host = createHost({ services: [service], resources: [provider], transport: "memory://?faithful=1" });
      hosts.push(host);
      await host.start();
      const api = ledgerContract(name);
      const as = (subject: string) => {
        const caller: Identity = { subject, roles: [] };
        const ctx = host.context({ caller });
        return {
          add: (input: { label: string; amount: number; fail?: "refused" | "unavailable" }, key?: string) =>
            ctx.call(api.add, input, key === undefined ? {} : { idempotencyKey: key }),
        };
      };
      return { name, host, provider, runs, as, entries: () => host.call(api.entries, {}) };
    }

    it("answers a repeat with the first answer, without running the handler again", async () => {
      const l = await ledger();
      const ann = l.as("ann");
      const first = await ann.add({ label: "a", amount: 1 }, "k1");
      // The same input with its keys in another order is the same request.
      const again = await l.as("ann").add({ amount: 1, label: "a" } as { label: string; amount: number }, "k1");
      expect(again).toEqual(first);
      expect(l.runs()).toBe(1);
      expect(await l.entries()).toBe(1);
      // Without a key, or with another, the action runs as usual.
      await ann.add({ label: "a", amount: 1 });
      await ann.add({ label: "a", amount: 1 }, "k2");
      expect(await l.entries()).toBe(3);
      expect(l.provider.idempotencyOutcomes()).toEqual(
        expect.arrayContaining([
          { service: l.name, outcome: "stored", count: 2 },
          { service: l.name, outcome: "replayed", count: 1 },
        ]),
      );
    });

    it("says on the action's span whether its answer was stored or replayed", async () => {
      const name = `ledger-${++unique}`;
      const { service } = ledgerService(name);
      const spans: SpanRecord[] = [];
      const tracer = new LightTracer({ service: name, sink: { onEnd: (span) => spans.push(span) } });
      const host = createHost({
        services: [service],
        resources: [target.provider()],
        transport: "memory://?faithful=1",
        middleware: [tracing({ tracer })],
      });
      hosts.push(host);
      await host.start();
      const ctx = host.context({ caller: { subject: "ann", roles: [] } });
      await ctx.call(ledgerContract(name).add, { label: "a", amount: 1 }, { idempotencyKey: "traced" });
      await ctx.call(ledgerContract(name).add, { label: "a", amount: 1 }, { idempotencyKey: "traced" });
      const served = spans.filter((s) => s.kind === 1 && s.name === `${name}.add`);
      expect(served.map((s) => s.attributes["flotilla.idempotency"])).toEqual(["stored", "replayed"]);
    });

    it("refuses the same key with another input, and keeps the first answer", async () => {
      const l = await ledger();
      const ann = l.as("ann");
      const first = await ann.add({ label: "a", amount: 1 }, "k");
      await expect(ann.add({ label: "a", amount: 2 }, "k")).rejects.toMatchObject({
        code: "FLOTILLA_IDEMPOTENCY_KEY_REUSED",
        status: "FAILED_PRECONDITION",
      });
      expect(await ann.add({ label: "a", amount: 1 }, "k")).toEqual(first);
      expect(await l.entries()).toBe(1);
    });

    it("runs concurrent requests with one key once, and gives each the same answer", async () => {
      const l = await ledger();
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => l.as("ann").add({ label: "c", amount: 5 }, "same")),
      );
      expect(new Set(answers.map((a) => a.id)).size).toBe(1);
      expect(l.runs()).toBe(1);
      expect(await l.entries()).toBe(1);
    });

    it("keeps keys per caller: two callers with one key each get their own effect", async () => {
      const l = await ledger();
      const ann = await l.as("ann").add({ label: "p", amount: 1 }, "shared");
      const bob = await l.as("bob").add({ label: "p", amount: 1 }, "shared");
      expect(bob.id).not.toBe(ann.id);
      expect(await l.entries()).toBe(2);
    });

    it("gives the same answer after a restart, from the database", async () => {
      const l = await ledger();
      const first = await l.as("ann").add({ label: "r", amount: 3 }, "restart");
      await l.host.stop();
      const again = await ledger(l.name);
      expect(await again.as("ann").add({ label: "r", amount: 3 }, "restart")).toEqual(first);
      expect(again.runs()).toBe(0);
      expect(await again.entries()).toBe(1);
    });

    it("keeps a failure that is the answer, without its effect; forgets a fault, so a retry runs", async () => {
      const l = await ledger();
      const ann = l.as("ann");
      const refused = { code: "REFUSED", status: "FAILED_PRECONDITION" };
      await expect(ann.add({ label: "f", amount: 1, fail: "refused" }, "no")).rejects.toMatchObject(refused);
      await expect(ann.add({ label: "f", amount: 1, fail: "refused" }, "no")).rejects.toMatchObject(refused);
      expect(l.runs()).toBe(1);
      await expect(ann.add({ label: "f", amount: 1, fail: "unavailable" }, "fault")).rejects.toMatchObject({
        status: "INTERNAL",
      });
      await expect(ann.add({ label: "f", amount: 1, fail: "unavailable" }, "fault")).rejects.toMatchObject({
        status: "INTERNAL",
      });
      expect(l.runs()).toBe(3);
      // Neither the refused nor the failed writes happened.
      expect(await l.entries()).toBe(0);
    });

    it("refuses a key that is empty, too long or not printable", async () => {
      const l = await ledger();
      for (const key of ["", "x".repeat(256), "tab\there", "é"]) {
        await expect(l.as("ann").add({ label: "v", amount: 1 }, key)).rejects.toMatchObject({
          code: "FLOTILLA_IDEMPOTENCY_KEY_INVALID",
        });
      }
      expect(l.runs()).toBe(0);
    });

    it("forgets keys once the sweep deleted them", async () => {
      const l = await ledger();
      const first = await l.as("ann").add({ label: "s", amount: 1 }, "old");
      expect(await l.provider.sweepIdempotencyKeys(Date.now())).toBe(0);
      expect(await l.provider.sweepIdempotencyKeys(Date.now() + DAY_MS + 1)).toBe(1);
      const later = await l.as("ann").add({ label: "s", amount: 1 }, "old");
      expect(later.id).not.toBe(first.id);
      expect(await l.entries()).toBe(2);
    });
  });
}
