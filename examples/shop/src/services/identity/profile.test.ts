import { createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identity } from "./contract.js";
import { createIdentityService } from "./service.js";

const updates: unknown[] = [];
const observer = defineService(defineContract({ service: "observer" }), {
  actions: {},
  subscriptions: {
    updated: {
      event: identity.UserUpdated,
      handle: async (data) => {
        updates.push(data);
      },
    },
  },
});

const home = { street: "1 Analytical Row", city: "London", country: "GB" };

describe("identity: the caller's own profile", () => {
  let host: Host;
  beforeAll(async () => {
    host = createHost({
      services: [createIdentityService({ seed: false }), observer],
      resources: [sqliteDatabases({ dataDir: ":memory:" })],
      transport: "memory://?faithful=1",
      validateOutput: true,
    });
    await host.start();
  });
  afterAll(() => host.stop());

  async function signUp(email: string, name: string) {
    const user = await host.call(identity.register, { email, password: "long enough", name });
    return { user, caller: { subject: user.id, roles: ["customer"] } };
  }

  it("changes name and address, answers the whole profile and emits it as UserUpdated", async () => {
    const { user, caller } = await signUp("ada@example.org", "Ada");
    const profile = await host.call(identity.updateProfile, { name: " Ada Lovelace ", address: home }, { caller });
    expect(profile).toEqual({ id: user.id, email: "ada@example.org", name: "Ada Lovelace", address: home });
    await expect.poll(() => updates).toContainEqual(profile);
    // `me` keeps its shape: no address member for clients that do not expect one.
    expect(await host.call(identity.me, {}, { caller })).toEqual({
      id: user.id,
      email: "ada@example.org",
      name: "Ada Lovelace",
      roles: ["customer"],
      tier: "standard",
    });
  });

  it("keeps what the input leaves out, and removes the address on null", async () => {
    const { user, caller } = await signUp("grace@example.org", "Grace");
    await host.call(identity.updateProfile, { address: home }, { caller });
    const renamed = await host.call(identity.updateProfile, { name: "Grace Hopper" }, { caller });
    expect(renamed).toMatchObject({ name: "Grace Hopper", address: home });
    const moved = await host.call(identity.updateProfile, { address: null }, { caller });
    expect(moved).toEqual({ id: user.id, email: "grace@example.org", name: "Grace Hopper", address: null });
    await expect.poll(() => updates).toContainEqual(moved);
  });

  it("emits nothing for a request that changes nothing", async () => {
    const { user, caller } = await signUp("edsger@example.org", "Edsger");
    await host.call(identity.updateProfile, { name: "Edsger", address: null }, { caller });
    await host.call(identity.updateProfile, {}, { caller });
    const last = await host.call(identity.updateProfile, { name: "E. W. Dijkstra" }, { caller });
    await expect.poll(() => updates).toContainEqual(last);
    const mine = updates.filter((u) => (u as { id: string }).id === user.id);
    expect(mine).toEqual([last]);
  });

  it("needs a signed-in caller whose account exists", async () => {
    await expect(host.call(identity.updateProfile, { name: "Nobody" })).rejects.toMatchObject({
      code: "SIGN_IN_REQUIRED",
      status: "UNAUTHENTICATED",
    });
    const ghost = { subject: "deleted-user", roles: ["customer"] };
    await expect(host.call(identity.updateProfile, { name: "Ghost" }, { caller: ghost })).rejects.toMatchObject({
      code: "USER_NOT_FOUND",
      status: "NOT_FOUND",
    });
  });

  it("validates names and addresses at the boundary", async () => {
    const { caller } = await signUp("alan@example.org", "Alan");
    const bad = [
      { name: "" },
      { name: "x".repeat(201) },
      { address: { ...home, country: "GBR" } },
      { address: { ...home, street: " " } },
      { address: { street: "1 Road", city: "Leeds" } },
    ];
    for (const input of bad) {
      await expect(host.call(identity.updateProfile, input as never, { caller })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
    }
  });
});
