import { randomUUID } from "node:crypto";
import { action, createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { database, sqliteDatabases } from "@flotilla/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { eventSource } from "../../../test/support/event-source.js";
import { identity } from "../identity/contract.js";
import { type BuyersTables, buyerAddress, buyerSubscriptions, buyersMigration } from "./buyers.js";

/** A service with just the buyers copy, as orders will have it: its migration and its subscriptions. */
const probe = defineContract({
  service: "buyers-probe",
  actions: {
    buyer: action({
      input: z.object({ userId: z.string() }),
      output: z.object({ name: z.string().nullable(), address: z.unknown() }),
    }),
    /** Applies an identity event as if delivered late, with the emission time given. */
    applyLate: action({
      input: z.object({ kind: z.enum(["registered", "updated"]), data: z.unknown(), time: z.string() }),
      output: z.undefined(),
    }),
  },
});

const probeService = defineService(probe, {
  database: database<BuyersTables>({ migrations: { "001_buyers": buyersMigration } }),
  subscriptions: buyerSubscriptions,
  actions: {
    async buyer({ userId }, ctx) {
      const row = await ctx.db.selectFrom("buyers").select("name").where("user_id", "=", userId).executeTakeFirst();
      return { name: row?.name ?? null, address: (await buyerAddress(ctx.db, userId)) ?? null };
    },
    async applyLate({ kind, data, time }, ctx) {
      const sub = kind === "registered" ? buyerSubscriptions.buyerRegistered : buyerSubscriptions.buyerUpdated;
      const envelope = {
        id: randomUUID(),
        type: sub.event.type,
        source: "identity",
        version: 1,
        time,
        headers: {},
        data,
      };
      await sub.handle(sub.event.schema.parse(data) as never, ctx, { envelope, delivery: { attempt: 1 } });
    },
  },
});

const identitySource = eventSource("identity");
const home = { street: "1 Analytical Row", city: "London", country: "GB" };

describe("orders: the local copy of buyers", () => {
  let host: Host;
  beforeAll(async () => {
    host = createHost({
      services: [identitySource.service, probeService],
      resources: [sqliteDatabases({ dataDir: ":memory:" })],
      transport: "memory://?faithful=1",
      validateOutput: true,
    });
    await host.start();
  });
  afterAll(() => host.stop());

  const buyer = (userId: string) => host.call(probe.buyer, { userId });

  it("copies a registered user's name, with no address yet", async () => {
    await identitySource.emit(host, identity.UserRegistered, { userId: "u1", email: "ada@example.org", name: "Ada" });
    await expect.poll(() => buyer("u1")).toEqual({ name: "Ada", address: null });
    expect(await buyer("nobody")).toEqual({ name: null, address: null });
  });

  it("replaces the copy with each UserUpdated: the address with the name, then none", async () => {
    await identitySource.emit(host, identity.UserRegistered, { userId: "u2", email: "g@example.org", name: "Grace" });
    await expect.poll(() => buyer("u2")).toMatchObject({ name: "Grace" });
    const profile = { id: "u2", email: "g@example.org", name: "Grace Hopper", address: home };
    await identitySource.emit(host, identity.UserUpdated, profile);
    await expect.poll(() => buyer("u2")).toEqual({ name: "Grace Hopper", address: { name: "Grace Hopper", ...home } });
    await identitySource.emit(host, identity.UserUpdated, { ...profile, address: null });
    await expect.poll(() => buyer("u2")).toEqual({ name: "Grace Hopper", address: null });
  });

  it("keeps a newer copy when an older event arrives late, whichever kind it is", async () => {
    const updated = { id: "u3", email: "e@example.org", name: "Edsger", address: home };
    await host.call(probe.applyLate, { kind: "updated", data: updated, time: "2030-01-01T10:00:00.000Z" });
    const registered = { userId: "u3", email: "e@example.org", name: "E" };
    await host.call(probe.applyLate, { kind: "registered", data: registered, time: "2030-01-01T09:00:00.000Z" });
    const older = { ...updated, name: "Old Name", address: null };
    // Another textual form of an earlier time: compared as times, not as the strings they came in.
    await host.call(probe.applyLate, { kind: "updated", data: older, time: "2030-01-01T10:59:59+01:00" });
    expect(await buyer("u3")).toEqual({ name: "Edsger", address: { name: "Edsger", ...home } });
    const newer = { ...updated, name: "Edsger W. Dijkstra" };
    await host.call(probe.applyLate, { kind: "updated", data: newer, time: "2030-01-01T10:00:00.001Z" });
    expect(await buyer("u3")).toMatchObject({ name: "Edsger W. Dijkstra" });
  });
});
