/** Deployment units: the three layouts of the shop, the defaults filled in, and each refusal. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { describe, expect, it } from "vitest";
import shopApp from "../../../examples/shop/src/app.js";
import type { DeploymentUnit, FlotillaApp } from "../src/index.js";
import { DEFAULT_RESOURCES, DEFAULT_SCALING, deploymentUnit, deploymentUnits, type Layout } from "../src/index.js";

const SHOP_SERVICES = shopApp.services.map((s) => s.name);

function withUnits(units: Record<string, DeploymentUnit>, app: FlotillaApp = shopApp): FlotillaApp {
  return { ...app, units };
}

function configMessage(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(FlotillaError);
    expect((err as FlotillaError).code).toBe(FlotillaCodes.CONFIG.code);
    return (err as Error).message;
  }
  throw new Error("expected a FLOTILLA_CONFIG error");
}

describe("deployment units", () => {
  it("the app layout is the shop's own five units, defaults filled in", () => {
    const units = deploymentUnits(shopApp);
    expect(units.map((u) => [u.name, u.services, u.gateway])).toEqual([
      ["edge", ["identity"], true],
      ["browse", ["catalog", "reviews", "recommendations"], false],
      ["orders", ["orders"], false],
      ["fulfilment", ["inventory", "payments", "shipping"], false],
      ["notifications", ["notifications"], false],
    ]);
    const notifications = units.find((u) => u.name === "notifications");
    expect(notifications?.scaling).toEqual({ ...DEFAULT_SCALING, min: 1, max: 4, lagPerInstance: 50 });
    expect(notifications?.instances).toBe(1);
    expect(notifications?.resources).toEqual(DEFAULT_RESOURCES);
  });

  it("the single layout is one unit named after the app with every service and the gateway", () => {
    expect(deploymentUnits(shopApp, "single")).toEqual([
      {
        name: "shop",
        services: SHOP_SERVICES,
        gateway: true,
        instances: 1,
        scaling: DEFAULT_SCALING,
        resources: DEFAULT_RESOURCES,
      },
    ]);
    expect(deploymentUnits({ ...shopApp, name: "My_Shop 2" }, "single")[0]?.name).toBe("my-shop-2");
  });

  it("the per-service layout is a unit per service, then the gateway alone", () => {
    const units = deploymentUnits(shopApp, "per-service");
    expect(units.map((u) => u.name)).toEqual([...SHOP_SERVICES, "gateway"]);
    expect(units.at(-1)).toMatchObject({ services: [], gateway: true });
    expect(units.slice(0, -1).every((u) => u.services.length === 1 && u.services[0] === u.name && !u.gateway)).toBe(
      true,
    );
  });

  it("the app layout of an app that declares no units is per-service; no gateway, no gateway unit", () => {
    const { units: _, gateway: __, ...bare } = shopApp;
    expect(deploymentUnits(bare).map((u) => u.name)).toEqual(SHOP_SERVICES);
    expect(deploymentUnits(bare, "single")[0]?.gateway).toBe(false);
  });

  it("fills instances and max from min, max from instances, and keeps declared resources", () => {
    const all = { services: SHOP_SERVICES, gateway: true };
    const [a] = deploymentUnits(withUnits({ a: { ...all, scaling: { min: 2 } } }));
    expect([a?.instances, a?.scaling.min, a?.scaling.max]).toEqual([2, 2, 2]);
    const [b] = deploymentUnits(withUnits({ b: { ...all, instances: 3 } }));
    expect([b?.instances, b?.scaling.min, b?.scaling.max]).toEqual([3, 1, 3]);
    const [c] = deploymentUnits(withUnits({ c: { ...all, resources: { memory: "1Gi" } } }));
    expect(c?.resources).toEqual({ cpu: DEFAULT_RESOURCES.cpu, memory: "1Gi" });
  });

  it("finds one unit by name in a layout", () => {
    expect(deploymentUnit(shopApp, "browse").services).toEqual(["catalog", "reviews", "recommendations"]);
    expect(deploymentUnit(shopApp, "catalog", "per-service").services).toEqual(["catalog"]);
    expect(deploymentUnit(shopApp, "shop", "single").gateway).toBe(true);
    expect(configMessage(() => deploymentUnit(shopApp, "catalog"))).toBe(
      'shop has no unit "catalog" (its units: edge, browse, orders, fulfilment, notifications)',
    );
  });

  it("refuses each inconsistent declaration with FLOTILLA_CONFIG", () => {
    const rest = (...but: string[]) => SHOP_SERVICES.filter((s) => !but.includes(s));
    const cases: [Record<string, DeploymentUnit>, string][] = [
      [{ Edge: { services: SHOP_SERVICES } }, 'shop: unit name "Edge" must be lower-case letters'],
      [{ a: { services: [...SHOP_SERVICES, "warehouse"] } }, 'unit a names service "warehouse"'],
      [{ a: { services: SHOP_SERVICES }, b: { services: ["catalog"] } }, "service catalog is in units a and b"],
      [
        { a: { services: rest(), gateway: true }, b: { services: [], gateway: true } },
        "units a and b both serve the gateway",
      ],
      [{ a: { services: SHOP_SERVICES }, b: { services: [] } }, "unit b runs nothing"],
      [{ a: { services: rest("catalog", "orders") } }, "services catalog, orders are in no unit"],
      [{ a: { services: SHOP_SERVICES, scaling: { min: 3, max: 2 } } }, "needs whole numbers 0 <= min"],
      [{ a: { services: SHOP_SERVICES, scaling: { min: 1.5 } } }, "needs whole numbers 0 <= min"],
      [{ a: { services: SHOP_SERVICES, instances: 5, scaling: { max: 2 } } }, "starts 5 instances, outside 1..2"],
      [{ a: { services: SHOP_SERVICES, scaling: { cpuPercent: 0 } } }, "scaling.cpuPercent must be above 0"],
      [{ a: { services: SHOP_SERVICES, scaling: { lagPerInstance: -1 } } }, "scaling.lagPerInstance must be above 0"],
    ];
    for (const [units, message] of cases) {
      expect(configMessage(() => deploymentUnits(withUnits(units)))).toContain(message);
    }
    const { gateway: _, ...noGateway } = shopApp;
    expect(
      configMessage(() => deploymentUnits(withUnits({ a: { services: SHOP_SERVICES, gateway: true } }, noGateway))),
    ).toBe("shop: unit a serves a gateway the app lacks");
    expect(configMessage(() => deploymentUnits(shopApp, "mixed" as Layout))).toBe(
      'layout must be one of app, single, per-service, got "mixed"',
    );
  });
});
