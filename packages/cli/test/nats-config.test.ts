/** `flotilla nats-config` as a user runs it (its units, files and refusals), and the units it derives from the shop. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsUnit } from "@flotilla/nats";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { shopApp } from "../../../examples/shop/src/app.js";
import { appUnits, gatewayNeeds } from "../src/commands/nats-config.js";
import { root } from "./split-helpers.js";

const bin = join(root, "packages/cli/bin/flotilla.js");

describe("flotilla nats-config", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-nats-config-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, "nats-config", "--out", join(dir, "nats.conf"), ...args], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });

  it("writes the configuration and one credentials file per unit, readable by their owner only", () => {
    const done = run("--group", "core=catalog,identity", "--credentials", join(dir, "creds"), "--server", "nats:4333");
    expect(done.status, done.stderr).toBe(0);
    const units = [
      "core",
      "orders",
      "inventory",
      "payments",
      "shipping",
      "notifications",
      "recommendations",
      "reviews",
      "gateway",
    ];
    expect(done.stdout).toContain(`users ${units.join(", ")}`);
    for (const unit of units) {
      const file = join(dir, "creds", `${unit}.env`);
      expect(readFileSync(file, "utf8")).toMatch(
        new RegExp(`^FLOTILLA_TRANSPORT=nats://${unit}:[A-Za-z0-9_-]{43}@nats:4333\\?inboxPrefix=_INBOX_${unit}\\n$`),
      );
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(dir, "nats.conf")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "nats.conf"), "utf8")).toContain("port: 4333\njetstream: enabled\n");
  });

  it("refuses to replace a configuration without --force, and replaces it with", () => {
    writeFileSync(join(dir, "nats.conf"), "kept");
    const refused = run("--credentials", join(dir, "creds"));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("exists already; --force replaces it");
    expect(readFileSync(join(dir, "nats.conf"), "utf8")).toBe("kept");
    const replaced = run("--credentials", join(dir, "creds"), "--force", "--registry");
    expect(replaced.status, replaced.stderr).toBe(0);
    // With --registry each unit may also put its instances' keys in the NATS KV registry.
    const config = readFileSync(join(dir, "nats.conf"), "utf8");
    expect(config).toContain('"$KV.flotilla_registry.catalog.*"');
    expect(config).not.toContain('"$KV.flotilla_registry.>"');
  });

  it("refuses groups that name no service, a service twice, or that it cannot read", () => {
    const cases: [string[], string][] = [
      [["--group", "a=catalog", "--group", "b=catalog"], "catalog is in both a and b"],
      [["--group", "a=catalog,warehouse"], "shop has no service warehouse"],
      [["--group", "=catalog"], '--group takes NAME=MEMBER[,MEMBER…], got "=catalog"'],
      [["--group", "a=catalog", "--group", "a=orders"], "group a is given twice"],
      [["--server", "http://nats:4222"], '--server must be a nats:// URL or host:port, got "http://nats:4222"'],
    ];
    for (const [args, message] of cases) {
      const refused = run(...args, "--credentials", join(dir, "creds"));
      expect(refused.status, message).toBe(2);
      expect(refused.stderr).toContain(message);
    }
    expect(existsSync(join(dir, "nats.conf"))).toBe(false);
  });

  it("refuses an app whose services do not declare what they call", () => {
    const refused = run("--app", "packages/cli/test/fixtures/ledger-app.ts", "--credentials", join(dir, "creds"));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("[FLOTILLA_CONFIG]");
    expect(refused.stderr).toContain("ledger does not declare the actions it calls");
  });
});

describe("the shop's units", () => {
  it("gives the gateway its routes' (parts and variants included) and policies' calls, the events it follows and emits", () => {
    const needs = gatewayNeeds(shopApp);
    expect(needs.calls).toEqual(expect.arrayContaining(["catalog.getProduct", "orders.createOrder", "identity.jwks"]));
    expect(needs.calls).toContain("identity.verifyApiKey");
    expect(needs.calls).not.toContain("payments.charge");
    expect([...needs.events].sort()).toEqual([
      "catalog.ProductCreated",
      "catalog.ProductUpdated",
      "gateway.TrafficChanged",
      "notifications.NotificationCreated",
      "orders.OrderPlaced",
      "orders.OrderStatusChanged",
    ]);
    // Composite routes' parts and split routes' action variants are calls too; traffic changes are its own events.
    expect(needs.calls).toEqual(
      expect.arrayContaining(["inventory.stockLevels", "recommendations.alsoBought", "reviews.listReviews"]),
    );
    expect(needs.emits).toEqual(["gateway.TrafficChanged"]);
  });

  it("puts the gateway in a group when named, each other service in a unit of its own", () => {
    const units = appUnits(shopApp, new Map([["edge", ["gateway", "recommendations"]]]));
    expect(units.map((u) => [u.name, u.services.map((s) => s.name), u.gateway !== undefined])).toEqual([
      ["edge", ["recommendations"], true],
      ["catalog", ["catalog"], false],
      ["orders", ["orders"], false],
      ["identity", ["identity"], false],
      ["inventory", ["inventory"], false],
      ["payments", ["payments"], false],
      ["shipping", ["shipping"], false],
      ["notifications", ["notifications"], false],
      ["reviews", ["reviews"], false],
    ]);
  });

  it("takes the app's own units by default, and regroups a layout's units", () => {
    const names = (units: readonly NatsUnit[]) =>
      units.map((u) => [u.name, u.services.map((s) => s.name), u.gateway !== undefined]);
    expect(names(appUnits(shopApp, new Map(), "app"))).toEqual([
      ["edge", ["identity"], true],
      ["browse", ["catalog", "reviews", "recommendations"], false],
      ["orders", ["orders"], false],
      ["fulfilment", ["inventory", "payments", "shipping"], false],
      ["notifications", ["notifications"], false],
    ]);
    // A group takes its members out of their units; a unit left with nothing is gone.
    expect(names(appUnits(shopApp, new Map([["mail", ["notifications", "recommendations"]]]), "app"))).toEqual([
      ["mail", ["notifications", "recommendations"], false],
      ["edge", ["identity"], true],
      ["browse", ["catalog", "reviews"], false],
      ["orders", ["orders"], false],
      ["fulfilment", ["inventory", "payments", "shipping"], false],
    ]);
    expect(() => appUnits(shopApp, new Map([["browse", ["catalog"]]]), "app")).toThrow(
      "group browse has the name of a unit of the app layout",
    );
    const refused = spawnSync(process.execPath, [bin, "nats-config", "--layout", "mixed"], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--layout must be one of app, single, per-service, got "mixed"');
  });
});
