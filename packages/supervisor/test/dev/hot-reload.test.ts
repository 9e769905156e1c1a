import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deploymentUnits, type FlotillaApp } from "@flotilla/app";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type HotReload, type Reload, startHotReload } from "../../src/dev/index.js";
import { FixtureCopies, fixtureApp } from "./fixture-copy.js";

/** Polls (bounded) until `predicate` holds. */
async function until(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fixtureSource = (file: string) => readFileSync(join(fixtureApp, file), "utf8");
const tallyContract = fixtureSource("contracts/tally.ts");
const hitsContract = fixtureSource("contracts/hits.ts");
const routesSource = fixtureSource("routes.ts");
const tallyServiceSource = fixtureSource("tally/service.ts");

const copies = new FixtureCopies();
afterAll(() => copies.remove());

describe("hot reload (real files, real fs events, a target recording restarts)", () => {
  let reload: HotReload | undefined;
  afterEach(async () => {
    await reload?.close();
  });

  /** The fixture app in a fresh copy, loaded from there, under hot reload; restarts are recorded (or fail for units in `failing`). */
  async function watched(failing: readonly string[] = []) {
    const dir = copies.make();
    const appPath = join(dir, "app.ts");
    const app = ((await import(appPath)) as { default: FlotillaApp }).default;
    const restarts: string[] = [];
    const reloads: Reload[] = [];
    reload = await startHotReload({
      app,
      appPath,
      units: deploymentUnits(app),
      debounceMs: 50,
      target: {
        async restart(unit) {
          if (failing.includes(unit)) throw new Error(`${unit}'s new instance did not become ready`);
          restarts.push(unit);
        },
      },
      onReload: (r) => reloads.push(r),
    });
    /** Writes files, then waits for the next reload and returns it. */
    const edit = async (files: Record<string, string>): Promise<Reload> => {
      const seen = reloads.length;
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
      await until(() => reloads.length > seen, `a reload after editing ${Object.keys(files).join(", ")}`);
      return reloads[seen] as Reload;
    };
    return { dir, restarts, reloads, edit };
  }

  it("restarts only the unit whose private file changed, then every unit reaching a changed contract", async () => {
    const { dir, restarts, edit } = await watched();
    // Both services were found in their own modules (an inline one would be restarted by every change).
    expect(reload?.inline).toEqual([]);
    const first = await edit({ "front/greeting.ts": 'export const GREETING = "v2";\n' });
    expect(first).toMatchObject({ files: [join(dir, "front/greeting.ts")], units: ["front"] });
    expect(restarts).toEqual(["front"]);
    const second = await edit({ "contracts/tally.ts": `${tallyContract}// edited\n` });
    expect(second.units).toEqual(["edge", "tally"]);
    expect(restarts.slice(1).sort()).toEqual(["edge", "tally"]);
  });

  it("ignores files outside the graph (an editor's swap file, notes), and restarts nothing for them", async () => {
    const { dir, restarts, reloads, edit } = await watched();
    writeFileSync(join(dir, "front/.greeting.ts.swp"), "x");
    writeFileSync(join(dir, "NOTES.md"), "x");
    const next = await edit({ "routes.ts": `${routesSource}// edited\n` });
    expect(reloads).toEqual([next]);
    expect(next.units).toEqual(["edge"]);
    expect(restarts).toEqual(["edge"]);
  });

  it("re-reads the graph after a change: a module newly imported is watched and belongs to its importer's unit", async () => {
    const { restarts, edit } = await watched();
    await edit({
      "tally/extra.ts": "export const EXTRA = 1;\n",
      "tally/service.ts": `${tallyServiceSource}import { EXTRA } from "./extra.js";\nexport const extra = EXTRA;\n`,
    });
    expect(restarts).toEqual(["tally"]);
    const next = await edit({ "tally/extra.ts": "export const EXTRA = 2;\n" });
    expect(next.units).toEqual(["tally"]);
  });

  it("restarts nothing while the source does not parse, reports FLOTILLA_DEV_SOURCE, and restarts once it is fixed", async () => {
    const { dir, restarts, edit } = await watched();
    const broken = await edit({ "front/greeting.ts": "export const GREETING = ;\n" });
    expect(broken.units).toEqual([]);
    expect(broken.sourceError).toMatchObject({ code: "FLOTILLA_DEV_SOURCE" });
    expect(restarts).toEqual([]);
    // The fix comes in the same file; the reload answers the change that broke it too.
    const fixed = await edit({ "front/greeting.ts": 'export const GREETING = "v3";\n' });
    expect(fixed).toMatchObject({ files: [join(dir, "front/greeting.ts")], units: ["front"] });
    expect(fixed.sourceError).toBeUndefined();
    expect(restarts).toEqual(["front"]);
  });

  it("retries a source that did not load on any change: creating the file an import names fixes it", async () => {
    const { restarts, edit } = await watched();
    const broken = await edit({ "front/greeting.ts": 'export { GREETING } from "./words.js";\n' });
    expect(broken.sourceError).toMatchObject({ code: "FLOTILLA_DEV_SOURCE" });
    const fixed = await edit({ "front/words.ts": 'export const GREETING = "v4";\n' });
    expect(fixed.sourceError).toBeUndefined();
    expect(fixed.units).toEqual(["front"]);
    expect(restarts).toEqual(["front"]);
  });

  it("reports a unit whose restart failed, and still restarts the others", async () => {
    const { restarts, edit } = await watched(["front"]);
    const result = await edit({ "contracts/hits.ts": `${hitsContract}// edited\n` });
    expect(result.units).toEqual(["edge", "front", "tally"]);
    expect([...result.failed.keys()]).toEqual(["front"]);
    expect(result.failed.get("front")?.message).toContain("did not become ready");
    expect(restarts.sort()).toEqual(["edge", "tally"]);
  });

  it("restarts every unit when a manifest changes", async () => {
    const { edit } = await watched();
    const result = await edit({ "package.json": '{ "name": "reload-app", "type": "module" }\n' });
    expect(result.units).toEqual(["edge", "front", "tally"]);
  });
});
