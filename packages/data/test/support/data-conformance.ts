/** @module The data conformance suite: what every database engine must do the same, run once per engine. */
import { createHost, type Host, type ResourceProvider, type ServiceDefinition } from "@flotilla/core";
import type { Migration } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createTableMigration, itemsContract, itemsService, itemsTable } from "./items-service.js";

export interface DataTarget {
  name: string;
  /** A new provider over the target's storage: every provider it returns reaches the same data. */
  provider(): ResourceProvider;
  /** Connections (or open files) this process holds on `service`'s database. */
  openConnections(service: string): Promise<number>;
}

let unique = 0;

export function dataConformance(target: DataTarget): void {
  describe(`data conformance: ${target.name}`, () => {
    const hosts: Host[] = [];
    afterEach(async () => {
      await Promise.all(hosts.splice(0).map((h) => h.stop()));
    });

    // Each test gets services of its own, so engines need no cleanup between tests.
    const serviceName = (base: string) => `${base}-${++unique}`;

    async function start(...services: ServiceDefinition[]): Promise<Host> {
      const host = createHost({ services, resources: [target.provider()], transport: "memory://" });
      hosts.push(host);
      await host.start();
      return host;
    }

    it("applies migrations once; data and history survive a restart", async () => {
      const name = serviceName("persist");
      const api = itemsContract(name);
      let runs = 0;
      const service = itemsService(name, { "001_items": itemsTable(() => runs++) });
      const first = await start(service);
      const { id } = await first.call(api.put, { name: "kept", quantity: 1 });
      await first.stop();

      const second = await start(service);
      expect(await second.call(api.get, { id })).toEqual({ id, name: "kept", quantity: 1 });
      expect(runs).toBe(1);
      await second.stop();
      const grown = await start(
        itemsService(name, { "001_items": itemsTable(), "002_more": createTableMigration("more") }),
      );
      expect(await grown.call(api.countRows, { table: "more" })).toBe(0);
    });

    it("applies pending migrations together: one failing leaves nothing behind", async () => {
      const name = serviceName("atomic");
      let runs = 0;
      const broken: Migration = {
        async up() {
          throw new Error("migration exploded");
        },
      };
      const failing = createHost({
        services: [itemsService(name, { "001_items": itemsTable(() => runs++), "002_broken": broken })],
        resources: [target.provider()],
        transport: "memory://",
      });
      await expect(failing.start()).rejects.toMatchObject({
        code: "FLOTILLA_MIGRATION_FAILED",
        details: { service: name, migration: "002_broken" },
      });
      const fixed = await start(
        itemsService(name, { "001_items": itemsTable(() => runs++), "002_broken": { up: async () => {} } }),
      );
      expect(runs).toBe(2);
      expect(await fixed.call(itemsContract(name).list, {})).toEqual([]);
    });

    it("creates, reads, updates and deletes through a host, with the types the schema declares", async () => {
      const name = serviceName("crud");
      const api = itemsContract(name);
      const host = await start(itemsService(name));
      const { id } = await host.call(api.put, { name: "cup", quantity: 2 });
      await host.call(api.put, { id: "b", name: "bowl", quantity: 5 });
      expect(await host.call(api.list, {})).toEqual([
        { id: "b", name: "bowl", quantity: 5 },
        { id, name: "cup", quantity: 2 },
      ]);
      expect(await host.call(api.count, {})).toEqual({ n: 2 });
      expect(await host.call(api.setQuantity, { id, quantity: 7 })).toBe(1);
      expect(await host.call(api.get, { id })).toEqual({ id, name: "cup", quantity: 7 });
      expect(await host.call(api.remove, { id: "b" })).toBe(1);
      expect(await host.call(api.remove, { id: "b" })).toBe(0);
      expect(await host.call(api.get, { id: "b" })).toBeNull();
      expect(await host.call(api.count, {})).toEqual({ n: 1 });
    });

    it("commits a transaction whole, or rolls it back whole", async () => {
      const name = serviceName("tx");
      const api = itemsContract(name);
      const host = await start(itemsService(name));
      await host.call(api.put, { id: "a", name: "a", quantity: 10 });
      await host.call(api.put, { id: "b", name: "b", quantity: 0 });
      await host.call(api.transfer, { from: "a", to: "b", amount: 4, fail: false });
      await expect(host.call(api.transfer, { from: "a", to: "b", amount: 5, fail: true })).rejects.toThrow(
        /transfer refused/,
      );
      expect((await host.call(api.list, {})).map((i) => i.quantity)).toEqual([6, 4]);
    });

    it("reports unique violations recognizably (isUniqueViolation), and nothing else as one", async () => {
      const name = serviceName("unique");
      const api = itemsContract(name);
      const host = await start(itemsService(name));
      expect(await host.call(api.put, { id: "x", name: "same", quantity: 1 })).toEqual({ id: "x", created: true });
      expect(await host.call(api.put, { id: "y", name: "same", quantity: 1 })).toEqual({ id: "y", created: false });
      expect(await host.call(api.put, { id: "x", name: "other", quantity: 1 })).toEqual({ id: "x", created: false });
      await expect(host.call(api.put, { id: "z", name: null, quantity: 1 })).rejects.toThrow();
      expect(await host.call(api.count, {})).toEqual({ n: 1 });
    });

    it("keeps services apart: neither sees the other's rows or tables", async () => {
      const [a, b] = [serviceName("iso-a"), serviceName("iso-b")];
      const host = await start(
        itemsService(a, { "001_items": itemsTable(), "002_secrets": createTableMigration("secrets") }),
        itemsService(b),
      );
      await host.call(itemsContract(a).put, { name: "a's", quantity: 1 });
      expect(await host.call(itemsContract(b).list, {})).toEqual([]);
      expect(await host.call(itemsContract(a).countRows, { table: "secrets" })).toBe(0);
      await expect(host.call(itemsContract(b).countRows, { table: "secrets" })).rejects.toThrow();
    });

    it("releases every connection when the host stops", async () => {
      const name = serviceName("close");
      const api = itemsContract(name);
      const host = await start(itemsService(name));
      await Promise.all([1, 2, 3].map((n) => host.call(api.put, { name: `n${n}`, quantity: n })));
      expect(await target.openConnections(name)).toBeGreaterThan(0);
      await host.stop();
      await expect.poll(() => target.openConnections(name)).toBe(0);
    });
  });
}
