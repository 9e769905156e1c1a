/** @module `flotilla traffic` as an operator runs it: a child process against a real gateway's admin routes. */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { action, createHost, defineContract, defineService, FlotillaError, type Host } from "@flotilla/core";
import { createGateway, type Gateway, type Policy, route, splitRoute } from "@flotilla/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

const root = resolve(import.meta.dirname, "../../..");
const bin = join(root, "packages/cli/bin/flotilla.js");

const shelf = defineContract({
  service: "shelf",
  actions: {
    item: action({ input: z.object({ id: z.string() }), output: z.object({ id: z.string() }), idempotent: true }),
  },
});
const shelfService = defineService(shelf, { actions: { item: ({ id }) => ({ id }) } });
const byId = (r: { params: { id: string } }) => ({ id: r.params.id });

/** The admin check of this test: one fixed token (the gateway's own authentication is tested in its package). */
const adminToken: Policy = {
  name: "admin-token",
  onRequest(ex) {
    if (ex.request.headers.authorization !== "Bearer admin-token") {
      throw new FlotillaError("UNAUTHENTICATED", "an admin token is needed");
    }
  },
};

function flotilla(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [bin, "traffic", ...args], { cwd: root, env: { ...process.env, ...env } });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((r) => child.on("close", (code) => r({ code, out })));
}

describe("flotilla traffic", () => {
  let host: Host;
  let gateway: Gateway;
  let url: string;
  const as = (extra: Record<string, string> = {}) => ({
    FLOTILLA_GATEWAY_URL: url,
    FLOTILLA_TOKEN: "admin-token",
    ...extra,
  });
  const variant = async (headers: Record<string, string> = {}) =>
    (await fetch(`${url}/items/a`, { headers })).headers.get("flotilla-variant");

  beforeAll(async () => {
    host = createHost({ services: [shelfService], transport: "memory://?faithful=1" });
    await host.start();
    gateway = createGateway({
      host,
      routes: [],
      accessLog: false,
      traffic: { adminPolicies: [adminToken] },
      splits: {
        items: splitRoute({
          name: "items",
          method: "GET",
          path: "/items/:id",
          variants: {
            stable: route({ method: "GET", path: "/items/:id", action: shelf.item, input: byId }),
            canary: route({ method: "GET", path: "/items/:id", action: shelf.item, input: byId }),
          },
          default: "stable",
        }),
      },
    });
    url = await gateway.listen();
  });
  afterAll(async () => {
    await gateway?.close();
    await host?.stop();
  });

  it("lists the splits and where their rules came from", async () => {
    const { code, out } = await flotilla([], as());
    expect(code).toBe(0);
    expect(out).toMatch(/^SPLIT\s+KIND\s+TARGET\s+WEIGHTS/m);
    expect(out).toMatch(/items\s+route\s+GET \/items\/:id\s+stable=100\s+0\s+user\s+-\s+code v0/);
  });

  it("changes a split's rules, which the gateway applies at once", async () => {
    const { code, out } = await flotilla(
      ["set", "items", "--weights", "stable=100,canary=0", "--match", "header:x-canary=1=canary", "--sticky", "none"],
      as(),
    );
    expect(code).toBe(0);
    expect(out).toContain("items: version 1");
    expect(await variant({ "x-canary": "1" })).toBe("canary");
    expect(await variant()).toBe("stable");
  });

  it("prints the report of shadow calls, and resets it", async () => {
    expect((await flotilla(["set", "items", "--weights", "stable=100", "--shadow", "canary"], as())).code).toBe(0);
    await variant();
    let report = { compared: 0 };
    for (let i = 0; i < 200 && report.compared === 0; i++) {
      report = JSON.parse((await flotilla(["report", "items", "--json"], as())).out);
    }
    expect(report).toMatchObject({ split: "items", compared: 1, equal: 1 });
    const text = await flotilla(["report", "items", "--reset"], as());
    expect(text.out).toMatch(/^items since .*: 1 compared, 1 equal, 0 different, 0 shadow failed, 0 dropped/);
    expect(JSON.parse((await flotilla(["report", "items", "--json"], as())).out)).toMatchObject({ compared: 0 });
  });

  it("fails with the gateway's code and the fields it refused, or without a token", async () => {
    const bad = await flotilla(["set", "items", "--weights", "stable=60,nightly=30"], as());
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("400 INVALID_ARGUMENT");
    expect(bad.out).toContain("weights.nightly: must name a variant");
    const anonymous = await flotilla([], { FLOTILLA_GATEWAY_URL: url, FLOTILLA_TOKEN: "" });
    expect(anonymous.code).toBe(1);
    expect(anonymous.out).toContain("401 UNAUTHENTICATED");
    const usage = await flotilla(["set", "items", "--match", "nonsense", "--weights", "stable=100"], as());
    expect(usage.code).toBe(2);
    expect(usage.out).toContain("--match");
  });
});
