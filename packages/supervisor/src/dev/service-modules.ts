/**
 * @module Which module defines each of an app's services: the local module that exports the very
 * ServiceDefinition object the app lists. The app module has already evaluated every module it imports
 * statically, so importing them again only reads the loader's cache: nothing runs twice.
 */
import { pathToFileURL } from "node:url";
import type { FlotillaApp } from "@flotilla/app";
import { type ImportGraph, reachable } from "./import-graph.js";

/** Loads a module by absolute path; the default asks the running loader (tsx under `flotilla`). */
export type ModuleLoader = (path: string) => Promise<Record<string, unknown>>;

export const importByPath: ModuleLoader = (path) => import(pathToFileURL(path).href);

/** Each service's defining module, and the services no module exports (defined inline in the app module). */
export interface ServiceModules {
  /** Service name → absolute path of its module; the app module for services it defines itself. */
  readonly modules: ReadonlyMap<string, string>;
  readonly inline: readonly string[];
}

/**
 * Finds each service's module among the modules the app module evaluates (static imports only: a module
 * behind `import()` may not have run, and importing it here would run it). When several export the same
 * service (a barrel re-exporting it), the one reaching the fewest modules defines it: a barrel reaches
 * the module it re-exports.
 */
export async function serviceModules(
  app: FlotillaApp,
  graph: ImportGraph,
  load: ModuleLoader = importByPath,
): Promise<ServiceModules> {
  const owners = new Map<string, { path: string; reach: number }>();
  const wanted = new Map(app.services.map((s) => [s as unknown, s.name]));
  for (const path of staticallyLoaded(graph)) {
    const exported = Object.values(await load(path));
    for (const value of exported) {
      const name = wanted.get(value);
      if (name === undefined) continue;
      const reach = reachable(graph, path).size;
      const known = owners.get(name);
      if (known === undefined || reach < known.reach) owners.set(name, { path, reach });
    }
  }
  const modules = new Map<string, string>();
  const inline: string[] = [];
  for (const service of app.services) {
    const owner = owners.get(service.name);
    if (owner === undefined) inline.push(service.name);
    modules.set(service.name, owner?.path ?? graph.entry);
  }
  return { modules, inline };
}

/** The modules evaluated when the entry is, i.e. reached through static imports; JSON and other data files aside. */
function staticallyLoaded(graph: ImportGraph): string[] {
  const seen = new Set<string>([graph.entry]);
  const queue = [graph.entry];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const edge of graph.modules.get(next) ?? []) {
      if (!edge.static || seen.has(edge.path)) continue;
      seen.add(edge.path);
      queue.push(edge.path);
    }
  }
  return [...seen].filter((path) => /\.[cm]?[jt]sx?$/.test(path));
}
