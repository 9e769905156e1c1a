import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { deploymentUnits } from "@flotilla/app";
import { afterAll, describe, expect, it } from "vitest";
import { affectedUnits, reachable, readImportGraph, serviceModules, unitSources } from "../../src/dev/index.js";
import { FixtureCopies, fixtureApp as fixture } from "./fixture-copy.js";
import { reloadApp } from "./fixtures/reload-app/app.js";

const at = (file: string) => join(fixture, file);

describe("the import graph of an app's source", () => {
  it("holds the app's modules and the workspace packages' source, not what node_modules installs", async () => {
    const graph = await readImportGraph(at("app.ts"));
    expect(graph.entry).toBe(at("app.ts"));
    for (const file of ["app.ts", "routes.ts", "contracts/hits.ts", "front/service.ts", "front/greeting.ts"]) {
      expect(graph.modules.has(at(file)), file).toBe(true);
    }
    const paths = [...graph.modules.keys()];
    // @flotilla/core is a workspace package: its source is the app's too; zod is installed, a leaf.
    expect(paths.some((p) => p.endsWith("packages/core/src/index.ts"))).toBe(true);
    expect(paths.filter((p) => p.includes("node_modules"))).toEqual([]);
    expect(graph.modules.get(at("front/service.ts"))?.map((e) => e.path)).toEqual(
      expect.arrayContaining([at("contracts/hits.ts"), at("front/greeting.ts")]),
    );
    expect(reachable(graph, at("tally/service.ts")).has(at("front/greeting.ts"))).toBe(false);
  });

  it("refuses a module that does not parse with FLOTILLA_DEV_SOURCE, naming the file and line", async () => {
    const dir = copyOfFixture();
    writeFileSync(join(dir, "front/greeting.ts"), 'export const GREETING = "v1"\nexport const = ;\n');
    const failure = await readImportGraph(join(dir, "app.ts")).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: "FLOTILLA_DEV_SOURCE" });
    expect(String((failure as Error).message)).toContain("greeting.ts:2:");
  });

  it("refuses an import that does not resolve with FLOTILLA_DEV_SOURCE", async () => {
    const dir = copyOfFixture();
    writeFileSync(join(dir, "front/greeting.ts"), 'export { GREETING } from "./gone.js";\n');
    const failure = await readImportGraph(join(dir, "app.ts")).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: "FLOTILLA_DEV_SOURCE" });
    expect(String((failure as Error).message)).toContain("./gone.js");
  });
});

describe("which units a change concerns", () => {
  it("finds each service's defining module among the modules the app loaded", async () => {
    const graph = await readImportGraph(at("app.ts"));
    const found = await serviceModules(reloadApp, graph);
    expect(Object.fromEntries(found.modules)).toEqual({ front: at("front/service.ts"), tally: at("tally/service.ts") });
    expect(found.inline).toEqual([]);
  });

  it("restarts a private file's unit alone, every unit reaching a shared contract, and all for the app module or a manifest", async () => {
    const graph = await readImportGraph(at("app.ts"));
    const { modules } = await serviceModules(reloadApp, graph);
    const sources = unitSources(graph, deploymentUnits(reloadApp), modules);
    const entry = graph.entry;
    expect(affectedUnits([at("front/greeting.ts")], entry, sources)).toEqual(["front"]);
    expect(affectedUnits([at("front/service.ts")], entry, sources)).toEqual(["front"]);
    // The front's contract: its service, the tally (which consumes its event), the gateway (routes import it).
    expect(affectedUnits([at("contracts/hits.ts")], entry, sources)).toEqual(["edge", "front", "tally"]);
    // The tally's contract: its service and the gateway, not the front.
    expect(affectedUnits([at("contracts/tally.ts")], entry, sources)).toEqual(["edge", "tally"]);
    expect(affectedUnits([at("routes.ts")], entry, sources)).toEqual(["edge"]);
    expect(affectedUnits([at("app.ts")], entry, sources)).toEqual(["edge", "front", "tally"]);
    expect(affectedUnits([join(fixture, "package.json")], entry, sources)).toEqual(["edge", "front", "tally"]);
    expect(affectedUnits([join(fixture, "package-lock.json")], entry, sources)).toEqual(["edge", "front", "tally"]);
    // Framework source reached by every unit (a workspace package) restarts every unit.
    const core = [...graph.modules.keys()].find((p) => p.endsWith("packages/core/src/errors.ts")) ?? "";
    expect(affectedUnits([core], entry, sources)).toEqual(["edge", "front", "tally"]);
    expect(affectedUnits([at("README.md"), join(fixture, "front/.greeting.ts.swp")], entry, sources)).toEqual([]);
  });

  it("puts each service of a grouped unit and the gateway's routes in the unit that runs them", async () => {
    const graph = await readImportGraph(at("app.ts"));
    const { modules } = await serviceModules(reloadApp, graph);
    const single = unitSources(graph, deploymentUnits(reloadApp, "single"), modules);
    expect(affectedUnits([at("front/greeting.ts")], graph.entry, single)).toEqual(["reload"]);
    const perService = unitSources(graph, deploymentUnits(reloadApp, "per-service"), modules);
    expect(affectedUnits([at("routes.ts")], graph.entry, perService)).toEqual(["gateway"]);
    expect(affectedUnits([at("tally/service.ts")], graph.entry, perService)).toEqual(["tally"]);
  });

  it("counts a file a change removed from a unit's graph as that unit's", async () => {
    const dir = copyOfFixture();
    const entry = join(dir, "app.ts");
    const before = await readImportGraph(entry);
    const modules = new Map([
      ["front", join(dir, "front/service.ts")],
      ["tally", join(dir, "tally/service.ts")],
    ]);
    const units = deploymentUnits(reloadApp);
    const old = unitSources(before, units, modules);
    // The front stops importing greeting.ts: the change to its service module restarts it, and so does
    // a change to greeting.ts judged against the graph before (a unit still running the old code).
    writeFileSync(join(dir, "front/service.ts"), 'export const frontService = "inline";\n');
    const after = unitSources(await readImportGraph(entry), units, modules);
    expect(affectedUnits([join(dir, "front/greeting.ts")], entry, old, after)).toEqual(["front"]);
    expect(affectedUnits([join(dir, "front/greeting.ts")], entry, after)).toEqual([]);
  });
});

const copies = new FixtureCopies();
afterAll(() => copies.remove());
const copyOfFixture = () => copies.make();
