/**
 * The same shop, the same customer journey, in three layouts, each started as a user would with
 * `flotilla start --unit …`: `single` in-process (one process is the whole app), `per-service` over NATS
 * (a process per service, and the gateway alone), and the shop's own five units over NATS.
 */
import { deploymentUnits, type Layout } from "@flotilla/app";
import { afterEach, describe, expect, it } from "vitest";
import shopApp from "../../../examples/shop/src/app.js";
import { customerJourney } from "../../../examples/shop/test/support/journey.js";
import { Cluster, type FlotillaProcess, gatewayReady } from "./split-helpers.js";

/** Orders ship 200 ms after confirmation instead of 2 s. */
const ENV = { SHOP_DISPATCH_DELAY_MS: "200", SHOP_DISPATCH_SWEEP_MS: "100" };

describe("the shop in every layout", () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  /** Starts every unit of `layout` (over NATS unless `embedded`); the process serving the gateway. */
  async function startLayout(layout: Layout, embedded = false): Promise<FlotillaProcess> {
    cluster = new Cluster();
    if (!embedded) await cluster.startNats();
    const c = cluster;
    const units = deploymentUnits(shopApp, layout);
    const started = await Promise.all(
      units.map((unit) =>
        c.start(unit.name, {
          unit: unit.name,
          layout,
          gateway: unit.gateway,
          env: ENV,
          // Up to ten processes start at once, each compiling the shop: on two busy cores this takes a while.
          startTimeoutMs: 120_000,
          ...(embedded ? { transport: "memory://?faithful=1" } : {}),
        }),
      ),
    );
    for (const [i, unit] of units.entries()) {
      const what = unit.services.length > 0 ? unit.services.join(", ") : "no services";
      expect(started[i]?.output()).toContain(
        `running ${what} (unit ${unit.name}) over ${embedded ? "memory" : "nats"}`,
      );
    }
    const gateway = started.find((_, i) => units[i]?.gateway) as FlotillaProcess;
    await gatewayReady(gateway, c, 60_000);
    return gateway;
  }

  it("single, in one process", { timeout: 180_000 }, async () => {
    const gateway = await startLayout("single", true);
    expect(cluster?.processes).toHaveLength(1);
    await customerJourney(gateway.url);
  });

  it("per-service, a process per service over NATS", { timeout: 240_000 }, async () => {
    const gateway = await startLayout("per-service");
    expect(cluster?.processes).toHaveLength(shopApp.services.length + 1);
    await customerJourney(gateway.url);
  });

  it("app, the shop's five units over NATS", { timeout: 180_000 }, async () => {
    const gateway = await startLayout("app");
    expect(cluster?.processes.map((p) => p.name)).toEqual(["edge", "browse", "orders", "fulfilment", "notifications"]);
    await customerJourney(gateway.url);
  });
});
