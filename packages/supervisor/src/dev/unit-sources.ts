/**
 * @module Which deployment units a source change concerns: each unit's files are what its services'
 * modules reach, and, for the gateway's unit, what the app module reaches without entering a service's
 * module (routes, policies, the contracts they import). The app module and package manifests concern
 * every unit.
 */
import { basename } from "node:path";
import type { ResolvedUnit } from "@flotilla/app";
import { type ImportGraph, reachable } from "./import-graph.js";

/** Files whose change restarts every unit: dependencies, their versions, the workspace. */
export const MANIFESTS: ReadonlySet<string> = new Set([
  "package.json",
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "pnpm-lock.yaml",
]);

/** Each unit's name → the absolute paths of the modules its processes run. */
export type UnitSources = ReadonlyMap<string, ReadonlySet<string>>;

/** The files of each unit, from the graph and each service's defining module (see serviceModules). */
export function unitSources(
  graph: ImportGraph,
  units: readonly ResolvedUnit[],
  modules: ReadonlyMap<string, string>,
): UnitSources {
  const serviceModules = new Set(modules.values());
  const gateway = reachable(graph, graph.entry, serviceModules);
  const sources = new Map<string, Set<string>>();
  for (const unit of units) {
    const files = new Set<string>([graph.entry, ...(unit.gateway ? gateway : [])]);
    for (const service of unit.services) {
      const module = modules.get(service);
      if (module !== undefined) for (const file of reachable(graph, module)) files.add(file);
    }
    sources.set(unit.name, files);
  }
  return sources;
}

/**
 * The units to restart for these changed files, in the units' order: every unit when a manifest or the
 * app module changed, else the units whose files include one of them (under the graph before the change
 * or after it, since a change may add or remove imports).
 */
export function affectedUnits(changed: Iterable<string>, entry: string, ...sources: readonly UnitSources[]): string[] {
  const files = [...changed];
  const names = [...new Set(sources.flatMap((s) => [...s.keys()]))];
  if (files.some((f) => f === entry || MANIFESTS.has(basename(f)))) return names;
  return names.filter((name) => sources.some((s) => files.some((f) => s.get(name)?.has(f))));
}

/** Whether a changed file can concern any unit: a module of one of the graphs, or a manifest. */
export function isRelevant(file: string, ...sources: readonly UnitSources[]): boolean {
  if (MANIFESTS.has(basename(file))) return true;
  return sources.some((s) => [...s.values()].some((files) => files.has(file)));
}
