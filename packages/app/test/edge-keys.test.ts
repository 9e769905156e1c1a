/** An app's edge keys: one file every process agrees on, made on first start, and refused where it cannot sign. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publicEdgeKeys } from "@flotilla/auth";
import { action, defineContract, defineService } from "@flotilla/core";
import { route } from "@flotilla/gateway";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineApp, edgeKeysPath, openEdgeKeys, runApp } from "../src/index.js";

const ping = defineContract({
  service: "ping",
  actions: { ping: action({ input: z.object({}), output: z.object({}) }) },
});
const app = defineApp({
  name: "ping-app",
  services: [defineService(ping, { actions: { ping: () => ({}) } })],
  gateway: { routes: [route({ method: "GET", path: "/ping", action: ping.ping })] },
});

describe("edge keys of an app", () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-app-edge-keys-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("come from the option, then FLOTILLA_EDGE_KEYS, then the data directory", () => {
    expect(edgeKeysPath("/data", "/given.json", { FLOTILLA_EDGE_KEYS: "/env.json" })).toBe("/given.json");
    expect(edgeKeysPath("/data", undefined, { FLOTILLA_EDGE_KEYS: "/env.json" })).toBe("/env.json");
    expect(edgeKeysPath("/data", undefined, { FLOTILLA_EDGE_KEYS: " " })).toBe(join("/data", "edge-keys.json"));
  });

  it("are made once when processes start together, in a directory that did not exist", async () => {
    const path = join(dir, "new", "deeper", "edge-keys.json");
    const opened = await Promise.all(Array.from({ length: 5 }, () => openEdgeKeys(path)));
    const kids = new Set(opened.map((k) => k.signing?.kid));
    expect(kids.size).toBe(1);
    expect([...kids][0]).toEqual(expect.any(String));
  });

  it("refuse to run a gateway from a file that holds only public keys", async () => {
    const full = join(dir, "full.json");
    await openEdgeKeys(full);
    const publicOnly = join(dir, "public.json");
    writeFileSync(publicOnly, JSON.stringify(await publicEdgeKeys(full)));
    const dataDir = join(dir, "data");
    // Services alone only verify, which public keys are enough for.
    const services = await runApp(app, { dataDir, edgeKeys: publicOnly });
    await services.stop();
    await expect(runApp(app, { dataDir, edgeKeys: publicOnly, gatewayPort: 0 })).rejects.toMatchObject({
      code: "FLOTILLA_CONFIG",
    });
  });
});
